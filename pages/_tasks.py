"""The Data page's editors: the task table (plain and derived tasks) and the split settings."""

from __future__ import annotations

import hashlib
import math
from typing import Any

import pandas as pd
import streamlit as st

from mtl_core.config import DataConfig, ExperimentConfig
from mtl_core.errors import ConfigError
from mtl_core.tasks import LOSSES_BY_KIND, TaskSpec

COLUMNS = ("name", "column", "kind", "loss", "threshold", "equals", "bins", "standardize")
KINDS = ["regression", "binary", "multiclass"]
LOSSES = sorted({loss for losses in LOSSES_BY_KIND.values() for loss in losses})


def task_rows(tasks: tuple[TaskSpec, ...]) -> pd.DataFrame:
    """The tasks as editable rows; bins as text ("3" quantile classes, or cut points "5.5, 6.5")."""
    rows = [{
        "name": task.name, "column": task.column, "kind": task.kind, "loss": task.loss,
        "threshold": task.threshold, "equals": None if task.equals is None else str(task.equals),
        "bins": None if task.bins is None else (str(task.bins) if isinstance(task.bins, int)
                                                else ", ".join(f"{edge:g}" for edge in task.bins)),
        "standardize": task.standardize,
    } for task in tasks]
    return pd.DataFrame(rows, columns=list(COLUMNS)).astype({"threshold": float, "standardize": bool})


def task_editor(table: pd.DataFrame, config: ExperimentConfig) -> tuple[TaskSpec, ...]:
    """Edit the tasks (add and delete rows too); raises ConfigError naming the row and setting at fault."""
    st.caption("One row per task. A derived task reads a column through a rule: **threshold** (binary: "
               "column ≥ value), **equals** (binary: one category against the rest), **bins** (multiclass: a "
               "number K of quantile classes, or cut points such as 5.5, 6.5). Several tasks may read one column.")
    source = hashlib.sha1(config.data.source.encode()).hexdigest()[:8]  # another table: a fresh editor
    edited = st.data_editor(
        task_rows(config.tasks), key=f"data.tasks.{source}", num_rows="dynamic", hide_index=True,
        column_config={
            "name": st.column_config.TextColumn("name", required=True),
            "column": st.column_config.SelectboxColumn("column", options=[str(c) for c in table.columns],
                                                       required=True),
            "kind": st.column_config.SelectboxColumn("kind", options=KINDS, required=True),
            "loss": st.column_config.SelectboxColumn("loss", options=LOSSES, help="empty: the kind's default"),
            "threshold": st.column_config.NumberColumn("threshold", format="%g"),
            "standardize": st.column_config.CheckboxColumn("standardize", help="regression: learn the z-score"),
        },
    )
    return tasks_from_rows(edited)


def tasks_from_rows(rows: pd.DataFrame) -> tuple[TaskSpec, ...]:
    """TaskSpecs from edited rows (blank rows skipped); a bad row is a ConfigError naming ``tasks.<i>.<key>``.

    >>> rows = pd.DataFrame([{"name": "good", "column": "quality", "kind": "binary", "threshold": 6.0}])
    >>> tasks_from_rows(rows)[0].threshold
    6.0
    """
    entries = [entry for entry in (_entry(row) for row in rows.to_dict("records")) if entry]
    if not entries:
        raise ConfigError("tasks: the table has no task; add a row naming a column to predict")
    return ExperimentConfig.from_dict({"tasks": entries}).tasks


def _entry(row: dict[str, Any]) -> dict[str, Any]:
    """One row's settings without its empty cells; bins text becomes an int or a list of cut points."""
    entry = {key: value for key, value in row.items() if not _blank(value)}
    if "bins" in entry:
        parts = [part.strip() for part in str(entry["bins"]).replace(";", ",").split(",") if part.strip()]
        entry["bins"] = int(parts[0]) if len(parts) == 1 and parts[0].isdigit() else _numbers(parts)
    if entry.get("standardize") is False:
        del entry["standardize"]
    return entry if set(entry) - {"kind", "standardize"} else {}


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
            "test_size": float(row[0].number_input("Test share", 0.05, 0.9, current.test_size, 0.05,
                                                   key="data.test_size")),
            "val_size": float(row[1].number_input("Validation share", 0.0, 0.9, current.val_size, 0.05,
                                                  key="data.val_size")),
            "split_seed": int(row[2].number_input("Split seed", 0, 2**31 - 1, current.split_seed, 1,
                                                  key="data.split_seed")),
            "stratify": bool(row[3].toggle("Stratify", current.stratify, key="data.stratify",
                                           help="keep the class shares equal across the splits where counts allow")),
        }
