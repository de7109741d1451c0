"""Data page: a built-in data set or an uploaded table, a preview, the tasks and inputs, and a look at the columns."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from mtl_core.config import DEFAULT_DATASET, DataConfig, ExperimentConfig
from mtl_core.data import DATASETS, load_table
from mtl_core.data.schema import infer_kind, summarize
from mtl_core.data.uploads import save_upload, upload_name
from mtl_core.errors import ConfigError, MTLError
from mtl_core.experiment import prepare, resolve
from mtl_core.viz.data import distributions, target_scatter
from pages._forms import schema_form
from pages._state import LINK_WARNINGS, UPLOAD_NOTE, current_config, set_config, sync_link
from pages._widgets import dataset_picker
from pages._tasks import picker_key, plural, split_settings, target_picker, task_editor
from pages._entry import through_entry

through_entry()  # a deep link on a fresh server: run the entry file, which runs this page

SOURCES = ("Built-in data set", "Upload a table")
MAX_HISTOGRAMS = 12  # more columns than this: the user picks which to draw


@st.cache_data(max_entries=8, show_spinner="Reading the table…")
def table_of(data: dict[str, Any]) -> pd.DataFrame:
    """The table a data section reads (cached per section, so editing tasks does not reload it)."""
    return load_table(DataConfig.model_validate(data))[0]


@st.cache_data(max_entries=32, show_spinner="Checking the tasks against the data…")
def check(config: dict[str, Any]) -> tuple[int, dict[str, list[int]]]:
    """Build the data set exactly as a run would (split, labels, preprocessing); returns its training rows
    and the table rows of each split."""
    dataset = prepare(ExperimentConfig.from_dict(config))[1]
    parts = {"train": dataset.train, "val": dataset.val, "test": dataset.test}
    return len(dataset.train.rows), {name: part.rows.tolist() for name, part in parts.items()}


def split_of(rows: int, parts: dict[str, list[int]]) -> list[str]:
    """Each table row's split, ``unused`` where no split holds the row."""
    labels = ["unused"] * rows
    for name, positions in parts.items():
        for position in positions:
            labels[position] = name
    return labels


def built_in(current: DataConfig) -> dict[str, Any]:
    """The data set menu and its own settings (generated data sets); returns the ``data`` values."""
    name = dataset_picker("data", current.source if current.path is None else DEFAULT_DATASET)
    source = DATASETS.get(name)
    params = current.params if current.dataset == name else {}
    values = schema_form("data.params", source.params.model_json_schema(), params)
    if source.citation:
        st.caption(source.citation)
    return {"dataset": name, "path": None, "params": values}


def uploaded(current: DataConfig) -> dict[str, Any] | None:
    """A CSV/TSV/Parquet upload, checked and stored; returns the ``data`` values, or None until a good file is in."""
    file = st.file_uploader("Table (CSV, TSV or Parquet, up to 50 MB)", type=["csv", "tsv", "txt", "parquet"],
                            key="data.upload")
    if file is None:
        if current.path is not None:
            st.caption(f"Using the uploaded file **{file_name(current.path)}**.")
            return {"dataset": None, "path": current.path, "params": {}}
        st.info("Upload a table: one row per example, a header line, any delimiter.")
        return None
    try:
        path, _ = save_upload(file.name, file.getvalue())
    except MTLError as error:
        st.error(str(error))  # the page goes on: the previous setup stays as it was
        return None
    return {"dataset": None, "path": str(path), "params": {}}


def choose_source(base: ExperimentConfig) -> dict[str, Any] | None:
    """Built-in or upload (first, when the setup or the link it came from reads a file), then its settings."""
    from_upload = base.data.path is not None or UPLOAD_NOTE in (st.session_state.get(LINK_WARNINGS) or [])
    kind = st.radio("Source", SOURCES, index=int(from_upload), horizontal=True, key="data.source")
    return built_in(base.data) if kind == SOURCES[0] else uploaded(base.data)


def shown(message: str, path: str | None) -> str:
    """A message as the user may read it: an upload by the name it was given, never the server's folder."""
    if path is None:
        return message
    stored = Path(path)
    for text in (str(stored), stored.name, str(stored.parent)):
        message = message.replace(text, file_name(path) if text != str(stored.parent) else "the uploads folder")
    return message


def file_name(path: str) -> str:
    """The name of the user's file: as uploaded while it is in the uploader, else as stored (without its hash)."""
    file = st.session_state.get("data.upload")
    return str(file.name) if file is not None else upload_name(path)


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


def inputs(table: pd.DataFrame, config: ExperimentConfig) -> tuple[str, ...] | None:
    """Which columns the model reads (every column no task uses, unless unticked); None = all of them."""
    used = {task.column for task in config.tasks} | {config.data.task_id_column}
    summary = summarize(table)
    chosen = set(config.data.features or summary["column"])
    summary.insert(1, "input", [name in chosen and name not in used for name in summary["column"]])
    summary.insert(2, "role", ["task" if name in used else "input" for name in summary["column"]])
    edited = st.data_editor(summary, key="data.columns", hide_index=True, disabled=[c for c in summary if c != "input"],
                            column_config={"input": st.column_config.CheckboxColumn("input", help="a model input")})
    picked = tuple(name for name, flag in zip(edited["column"], edited["input"], strict=True) if flag)
    free = tuple(name for name in summary["column"] if name not in used)
    return None if set(picked) == set(free) else picked


def tasks_section(table: pd.DataFrame, config: ExperimentConfig) -> ExperimentConfig:
    """The columns to predict, the task table, the inputs and the split; returns the config they make."""
    st.subheader("Tasks")
    kinds = {str(name): infer_kind(table[name]) for name in table.columns}
    menu = st.container()  # drawn above the table, filled after it: the menu shows this run's edits of the table
    try:
        tasks, problems = task_editor(table, config, kinds)
    except ConfigError:
        with menu:
            target_picker(table, config, kinds)
        raise
    with menu:
        target_picker(table, config.model_copy(update={"tasks": tasks}), kinds)
    for problem in problems:
        st.warning(problem, icon=":material/table_rows:")
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
    st.dataframe(table.head(200), key="data.preview", height=240)
    split: list[str] | None = None
    try:
        config = tasks_section(table, config)
        rows, parts = check(config.to_dict())
    except MTLError as error:
        st.error(shown(str(error), path))
    else:
        set_config(config)
        sync_link(config)
        split = split_of(len(table), parts)
        st.success(f"Ready: {plural(len(config.tasks), 'task')}, {plural(rows, 'training row')}.")
        if st.button("Train on this", key="data.to_train", type="primary"):
            st.switch_page("pages/train.py")
    charts(table, config, split)


st.title("Data")
base = current_config()
data = choose_source(base)
if data is not None:
    try:
        chosen, table = setup_of(base, data)
    except MTLError as error:
        st.error(shown(str(error), data["path"]))
    else:
        sections(chosen, table, data["path"])
