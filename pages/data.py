"""Data page: a built-in data set or an uploaded table, a preview, the tasks and inputs, and a look at the columns."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from mtl_core.config import DataConfig, ExperimentConfig
from mtl_core.data import DATASETS, load_data, load_table
from mtl_core.data.schema import infer_kind, summarize
from mtl_core.errors import ConfigError, MTLError
from mtl_core.experiment import prepare, resolve
from mtl_core.viz.data import distributions, target_scatter
from mtl_core.safe_text import message
from pages._source import choose_source, shown
from pages._state import current_config, set_config, start_job, sync_link
from pages._tasks import picker_key, plural, split_settings, target_picker, task_editor
from pages._entry import through_entry

through_entry()  # a deep link on a fresh server: run the entry file, which runs this page

MAX_HISTOGRAMS = 12  # more columns than this: the user picks which to draw


@st.cache_data(max_entries=8, show_spinner="Reading the table…")
def table_of(data: dict[str, Any]) -> pd.DataFrame:
    """The table a data section reads (cached per section, so editing tasks does not reload it)."""
    return load_table(DataConfig.model_validate(data))[0]


@st.cache_data(max_entries=32, show_spinner="Checking the tasks against the data…")
def check(config: dict[str, Any]) -> tuple[int, dict[str, list[int]], tuple[str, ...]]:
    """Build the data set exactly as a run would (split, labels, preprocessing); returns its training rows,
    the table rows of each split, and its notes (text columns whose rare categories were merged)."""
    dataset = prepare(ExperimentConfig.from_dict(config))[1]
    parts = {"train": dataset.train, "val": dataset.val, "test": dataset.test}
    return len(dataset.train.rows), {name: part.rows.tolist() for name, part in parts.items()}, dataset.notes


def split_of(rows: int, parts: dict[str, list[int]]) -> list[str]:
    """Each table row's split, ``unused`` where no split holds the row."""
    labels = ["unused"] * rows
    for name, positions in parts.items():
        for position in positions:
            labels[position] = name
    return labels


def setup_of(base: ExperimentConfig, data: dict[str, Any]) -> tuple[ExperimentConfig, pd.DataFrame]:
    """The chosen source with its tasks, and its table. Another table keeps the tasks whose columns it has
    (a shared link's tasks, say); a new upload with none of them starts from a task on its last column."""
    values = base.to_dict()
    same = base.data.source == DataConfig.model_validate({**values["data"], **data}).source
    values["data"].update(data, features=values["data"]["features"] if same else None)
    table = table_of(DataConfig.model_validate(values["data"]).model_dump(mode="json"))
    if not same:
        columns = {str(column) for column in table.columns}
        values["tasks"] = [task for task in values["tasks"] if task["column"] in columns] if data["path"] else []
    untouched = picker_key(DataConfig.model_validate(values["data"]).source) not in st.session_state
    if data["path"] is not None and not values["tasks"] and (untouched or not same):
        last = str(table.columns[-1])
        values["tasks"] = [{"name": last, "column": last, "kind": infer_kind(table[last])}]
    config = ExperimentConfig.from_dict(values)
    return (resolve(config) if config.tasks or config.data.path is None else config), table


@st.cache_data(max_entries=8, show_spinner=False)
def reads_images(data: dict[str, Any]) -> bool:
    """Whether the data set's model input is its images (then no table column is an input)."""
    return load_data(DataConfig.model_validate(data))[0].images is not None


def roles(config: ExperimentConfig, columns: list[str]) -> list[str]:
    """What each table column is to the model: a task's target, an input, or a label that is never read."""
    used = {task.column for task in config.tasks} | {config.data.task_id_column}
    source = DATASETS.get(config.data.dataset) if config.data.path is None and config.data.dataset else None
    never = set(source.label_columns) if source is not None else set()
    images = reads_images(config.data.model_dump(mode="json"))
    return ["task" if name in used else "label only, never an input" if name in never or images else "input"
            for name in columns]


def inputs(table: pd.DataFrame, config: ExperimentConfig) -> tuple[str, ...] | None:
    """Which columns the model reads (every column no task uses, unless unticked); None = all of them."""
    summary = summarize(table)
    role = roles(config, [str(name) for name in summary["column"]])
    if all(kind != "input" for kind in role):  # an image data set: the table holds labels only
        summary.insert(1, "role", role)
        st.dataframe(summary, key="data.columns", hide_index=True)
        st.caption("The model reads the images; the table's columns are their labels.")
        return None
    used = {name for name, kind in zip(summary["column"], role, strict=True) if kind != "input"}
    chosen = set(config.data.features or summary["column"])
    summary.insert(1, "input", [name in chosen and name not in used for name in summary["column"]])
    summary.insert(2, "role", role)
    edited = st.data_editor(summary, key="data.columns", hide_index=True, disabled=[c for c in summary if c != "input"],
                            column_config={"input": st.column_config.CheckboxColumn("input", help="a model input")})
    picked = tuple(name for name, flag in zip(edited["column"], edited["input"], strict=True) if flag)
    free = tuple(name for name in summary["column"] if name not in used)
    return None if set(picked) == set(free) else picked


def tasks_section(table: pd.DataFrame, config: ExperimentConfig, menu: Any) -> ExperimentConfig:
    """The columns to predict (in ``menu``, a container drawn above the task table and filled after it, so it shows
    this run's edits of the table), the task table, the inputs and the split; returns the config they make."""
    kinds = {str(name): infer_kind(table[name]) for name in table.columns}
    try:
        tasks, problems = task_editor(table, config, kinds)
    except ConfigError:
        with menu:
            target_picker(table, config, kinds)
        raise
    with menu:
        target_picker(table, config.model_copy(update={"tasks": tasks}), kinds)
    for problem in problems:
        st.warning(message(problem), icon=":material/table_rows:")
    if not tasks:
        raise ConfigError("tasks: no task yet; choose the columns to predict above")
    st.subheader("Columns")
    features = inputs(table, config.model_copy(update={"tasks": tasks}))
    split = split_settings(config.data)
    values = config.to_dict()
    values["tasks"] = [task.model_dump(exclude_none=True) for task in tasks]
    values["data"].update(split, features=list(features) if features is not None else None)
    return ExperimentConfig.from_dict(values)


def charts(table: pd.DataFrame, config: ExperimentConfig, split: list[str] | None) -> None:
    """Each column's distribution, and the tasks' targets against an input the user picks."""
    st.subheader("Distributions")
    used = [task.column for task in config.tasks if task.column in table.columns]
    order = list(dict.fromkeys([*used, *(str(name) for name in table.columns)]))
    if len(order) > MAX_HISTOGRAMS:
        order = st.multiselect("Columns to draw", order, order[:MAX_HISTOGRAMS], key="data.histograms")
    if order:
        st.altair_chart(distributions(table, order), key="data.distributions")
    if not used:
        return
    st.subheader("Targets against an input")
    others = [str(name) for name in table.columns if name not in used]
    chosen = st.selectbox("Input", others or order, key="data.scatter_input")
    targets = {task.name: task.column for task in config.tasks if task.column in table.columns}
    st.altair_chart(target_scatter(table, chosen, targets, split), key="data.scatter")
    st.caption("Coloured by the split each row falls in." if split else "The split is shown once the tasks are ready.")


def sections(config: ExperimentConfig, table: pd.DataFrame, path: str | None) -> None:
    """Preview, tasks and inputs, whether it is ready to train, and the charts."""
    st.subheader("Preview")
    st.dataframe(table.head(200), key="data.preview", height=180)
    split: list[str] | None = None
    st.subheader("Tasks")
    menu, verdict = st.container(), st.container()  # the targets, then at once whether it is ready, and Train now
    try:
        config = tasks_section(table, config, menu)
        rows, parts, notes = check(config.to_dict())
    except MTLError as error:
        verdict.error(message(shown(str(error), path)))
    else:
        set_config(config)
        sync_link(config)
        split = split_of(len(table), parts)
        ready_bar(verdict, config, rows)
        for note in notes:
            verdict.warning(message(note), icon=":material/category:")
    charts(table, config, split)


def ready_bar(verdict: Any, config: ExperimentConfig, rows: int) -> None:
    """Ready to train, right under the targets: Train now (starts the run, opens Train) or settings first."""
    with verdict:
        st.success(f"Ready: {plural(len(config.tasks), 'task')}, {plural(rows, 'training row')}.")
        now, later = st.columns(2)
        if now.button("Train now", key="data.train_now", type="primary", width="stretch",
                      help=f"Start training at once with the model and weighting set on Train "
                           f"({config.model.architecture}, {config.strategy.name}, {config.train.epochs} epochs)"):
            if start_job(config):
                st.switch_page("pages/train.py")
        if later.button("Choose the model and weighting first", key="data.to_train", width="stretch"):
            st.switch_page("pages/train.py")


st.title("Data")
base = current_config()
data = choose_source(base)
if data is not None:
    try:
        chosen, table = setup_of(base, data)
    except MTLError as error:
        st.error(message(shown(str(error), data["path"])))
    else:
        sections(chosen, table, data["path"])
