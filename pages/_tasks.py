"""The Data page's task editors (the columns to predict, the task table for edits and derived tasks) and the split."""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping
from typing import Any

import pandas as pd
import streamlit as st

from mtl_core.config import DataConfig, ExperimentConfig
from mtl_core.errors import ConfigError, MTLError
from mtl_core.tasks import LOSSES_BY_KIND, TaskSpec
from mtl_core.safe_text import message
from pages._forms import bounded_input
from pages._state import set_config

COLUMNS = ("name", "column", "kind", "loss", "threshold", "equals", "bins", "standardize")
KINDS = ["regression", "binary", "multiclass"]
LOSSES = sorted({loss for losses in LOSSES_BY_KIND.values() for loss in losses})
MAX_PILLS = 24  # up to this many columns the targets are buttons (one click each), beyond it a menu
TASK_ROW = re.compile(r"^tasks\.(\d+)\.(\w+): ")


def plural(count: int, noun: str) -> str:
    """``1 task``, ``3 tasks``.

    >>> plural(1, "task"), plural(0, "row")
    ('1 task', '0 rows')
    """
    return f"{count} {noun}{'' if count == 1 else 's'}"


def task_columns(tasks: tuple[TaskSpec, ...]) -> list[str]:
    """The columns the tasks predict, each once, in the tasks' order."""
    return list(dict.fromkeys(task.column for task in tasks))


def target_picker(table: pd.DataFrame, config: ExperimentConfig, kinds: Mapping[str, str]) -> list[str]:
    """The columns to predict, in one menu: a picked column becomes a task (kind from ``kinds``, loss from
    the kind), a dropped one takes its tasks along; every column no task reads stays an input.

    Returns the columns the menu shows (those of the tasks that the table has)."""
    key = picker_key(config.data.source)
    options = [str(column) for column in table.columns]
    shown = targets_in(config.tasks, table)
    st.session_state[key] = shown  # the tasks lead: a task added in the table shows here too
    described = ("One task per column, its kind guessed from the column's values; every other column is a model "
                 "input. Correct a kind or loss, or add derived tasks, in the table below.")
    args = (key, config.to_dict(), kinds)
    if len(options) <= MAX_PILLS:  # every column in sight: one click picks or drops it
        st.pills("Columns to predict", options, selection_mode="multi", key=key, help=described, on_change=_picked,
                 args=args)
    else:
        st.multiselect("Columns to predict", options, key=key, placeholder="Choose the columns to predict",
                       help=described, on_change=_picked, args=args)
    return shown


def targets_in(tasks: tuple[TaskSpec, ...], table: pd.DataFrame) -> list[str]:
    """The columns the tasks predict that the table has, each once."""
    columns = {str(column) for column in table.columns}
    return [column for column in task_columns(tasks) if column in columns]


def _picked(key: str, values: dict[str, Any], kinds: Mapping[str, str]) -> None:
    """After a change of the menu: keep the tasks of the columns still picked, add one task per new column."""
    picked = [str(column) for column in st.session_state.get(key) or []]
    tasks = [task for task in values["tasks"] if task["column"] in picked]
    have, names = {task["column"] for task in tasks}, {task["name"] for task in tasks}
    for column in (column for column in picked if column not in have):
        name = next(f"{column}{suffix}" for suffix in ("", *(f" {n}" for n in range(2, len(names) + 3)))
                    if f"{column}{suffix}" not in names)  # a derived task may already be called so
        names.add(name)
        tasks.append({"name": name, "column": column, "kind": kinds.get(column, "regression")})
    try:
        set_config(ExperimentConfig.from_dict({**values, "tasks": tasks}))
    except MTLError as error:
        st.toast(f"The columns to predict stay as they were: {message(error)}", icon=":material/error:")


def editor_id(source: str) -> str:
    """A short id of the table the tasks read (``DataConfig.source``): another table gets fresh task widgets."""
    return hashlib.sha1(source.encode()).hexdigest()[:8]


def picker_key(source: str) -> str:
    """The key of the menu of columns to predict for this table: in the session once the menu was shown."""
    return f"data.targets.{editor_id(source)}"


def task_rows(tasks: tuple[TaskSpec, ...]) -> pd.DataFrame:
    """The tasks as editable rows; bins as text ("3" quantile classes, or cut points "5.5, 6.5").

    A loss that is its kind's default shows empty, so a change of kind brings that kind's default loss.
    """
    rows = [{
        "name": task.name, "column": task.column, "kind": task.kind,
        "loss": None if task.loss == LOSSES_BY_KIND[task.kind][0] else task.loss,
        "threshold": task.threshold, "equals": None if task.equals is None else str(task.equals),
        "bins": None if task.bins is None else (str(task.bins) if isinstance(task.bins, int)
                                                else ", ".join(f"{edge:g}" for edge in task.bins)),
        "standardize": task.standardize,
    } for task in tasks]
    return pd.DataFrame(rows, columns=list(COLUMNS)).astype({"threshold": float, "standardize": bool})


def task_editor(table: pd.DataFrame, config: ExperimentConfig,
                kinds: Mapping[str, str]) -> tuple[tuple[TaskSpec, ...], list[str]]:
    """Edit the tasks (add and delete rows too); returns the tasks and why any row is not one yet.

    Raises ConfigError naming the row and setting at fault.
    """
    st.caption("Edit a task only where the guess is wrong. A row needs a **column** (its name defaults to the "
               "column's, its kind to the suggested one). A derived task reads a column through a rule: "
               "**threshold** (binary: column ≥ value), **equals** (binary: one category against the rest), "
               "**bins** (multiclass: a number K of quantile classes, or cut points such as 5.5, 6.5).")
    original = task_rows(config.tasks)
    edited = st.data_editor(
        original, key=f"data.tasks.{editor_id(config.data.source)}", num_rows="dynamic", hide_index=True,
        column_config={
            "name": st.column_config.TextColumn("name", help="empty: the column's name"),
            "column": st.column_config.SelectboxColumn("column", options=[str(c) for c in table.columns],
                                                       required=True),
            "kind": st.column_config.SelectboxColumn("kind", options=KINDS, help="empty: the suggested kind"),
            "loss": st.column_config.SelectboxColumn("loss", options=LOSSES, help="empty: the kind's default"),
            "threshold": st.column_config.NumberColumn("threshold", format="%g"),
            "standardize": st.column_config.CheckboxColumn("standardize", help="regression: learn the z-score"),
        },
    )
    return tasks_and_problems(follow_kind(original, edited), kinds)


def follow_kind(original: pd.DataFrame, edited: pd.DataFrame) -> pd.DataFrame:
    """Rows whose kind was just changed lose a loss that does not fit the new kind (it takes the kind's default)."""
    edited = edited.copy()
    for index in edited.index.intersection(original.index):
        kind, loss = edited.at[index, "kind"], edited.at[index, "loss"]
        if kind != original.at[index, "kind"] and kind in LOSSES_BY_KIND and loss not in LOSSES_BY_KIND[kind]:
            edited.at[index, "loss"] = None
    return edited


def tasks_from_rows(rows: pd.DataFrame, kinds: Mapping[str, str] | None = None) -> tuple[TaskSpec, ...]:
    """TaskSpecs from edited rows (blank and unfinished rows skipped); a bad row is a ConfigError naming it.

    >>> rows = pd.DataFrame([{"name": "good", "column": "quality", "kind": "binary", "threshold": 6.0}])
    >>> tasks_from_rows(rows)[0].threshold
    6.0
    """
    tasks, _ = tasks_and_problems(rows, kinds or {})
    if not tasks:
        raise ConfigError("tasks: the table has no task; choose a column to predict")
    return tasks


def tasks_and_problems(rows: pd.DataFrame, kinds: Mapping[str, str]) -> tuple[tuple[TaskSpec, ...], list[str]]:
    """The rows that are tasks, and one line per row that is not blank but names no column yet."""
    entries, numbers, problems = [], [], []
    for number, row in enumerate(rows.to_dict("records"), start=1):
        entry = _entry(row)
        if not entry:
            continue
        if "column" not in entry:
            named = f" ({entry['name']!r})" if "name" in entry else ""
            problems.append(f"Task row {number}{named} is not a task yet: it names no column. Pick the column it "
                            f"predicts, or delete the row.")
            continue
        entry.setdefault("name", str(entry["column"]))
        entry.setdefault("kind", kinds.get(str(entry["column"]), "regression"))
        entries.append(entry)
        numbers.append(number)
    if not entries:
        return (), problems
    try:
        return ExperimentConfig.from_dict({"tasks": entries}).tasks, problems
    except ConfigError as error:
        def row_of(found: re.Match[str]) -> str:
            index = int(found[1])
            return f"task row {numbers[index]} ({entries[index]['name']!r}), {found[2]}: "

        raise ConfigError(TASK_ROW.sub(row_of, str(error))) from None


def _entry(row: dict[str, Any]) -> dict[str, Any]:
    """One row's settings without its empty cells; bins text becomes an int or a list of cut points."""
    entry = {key: value for key, value in row.items() if not _blank(value)}
    if "bins" in entry:
        parts = [part.strip() for part in str(entry["bins"]).replace(";", ",").split(",") if part.strip()]
        entry["bins"] = int(parts[0]) if len(parts) == 1 and parts[0].isdigit() else _numbers(parts)
    if entry.get("standardize") is False:
        del entry["standardize"]
    return entry


def _numbers(parts: list[str]) -> list[float] | str:
    """Cut points as numbers; text that is not a number is passed on so validation names it."""
    try:
        return [float(part) for part in parts]
    except ValueError:
        return ", ".join(parts)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or (isinstance(value, str)
                                                                                 and not value.strip())


def split_settings(current: DataConfig) -> dict[str, Any]:
    """Test and validation shares, the split's seed and stratification; returns ``data`` values."""
    with st.expander("Train / validation / test split"):
        row = st.columns(4)
        return {
            "test_size": float(bounded_input(row[0], "Test share", DataConfig, "test_size", current.test_size, 0.05,
                                             key="data.test_size")),
            "val_size": float(bounded_input(row[1], "Validation share", DataConfig, "val_size", current.val_size,
                                            0.05, key="data.val_size")),
            "split_seed": int(bounded_input(row[2], "Split seed", DataConfig, "split_seed", current.split_seed, 1,
                                            key="data.split_seed")),
            "stratify": bool(row[3].toggle("Stratify", current.stratify, key="data.stratify",
                                           help="keep the class shares equal across the splits where counts allow")),
        }
