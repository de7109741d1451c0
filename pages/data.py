"""Data page: a built-in data set or an uploaded table, a preview, which columns are inputs, and the tasks."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from mtl_core.config import DEFAULT_DATASET, DataConfig, ExperimentConfig
from mtl_core.data import DATASETS, load_table
from mtl_core.data.schema import infer_kind, summarize
from mtl_core.data.uploads import save_upload, upload_name
from mtl_core.errors import MTLError
from mtl_core.experiment import prepare, resolve
from pages._forms import schema_form
from pages._state import current_config, set_config, sync_link
from pages._widgets import dataset_picker
from pages._tasks import split_settings, task_editor
from pages._entry import through_entry

through_entry()  # a deep link on a fresh server: run the entry file, which runs this page

SOURCES = ("Built-in data set", "Upload a table")


@st.cache_data(max_entries=8, show_spinner="Reading the table…")
def table_of(data: dict[str, Any]) -> pd.DataFrame:
    """The table a data section reads (cached per section, so editing tasks does not reload it)."""
    return load_table(DataConfig.model_validate(data))[0]


@st.cache_data(max_entries=32, show_spinner="Checking the tasks against the data…")
def check(config: dict[str, Any]) -> int:
    """Build the data set exactly as a run would (split, labels, preprocessing); returns its training rows."""
    return len(prepare(ExperimentConfig.from_dict(config))[1].train.rows)


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
            st.caption(f"Using the uploaded file **{upload_name(current.path)}**.")
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
    """Built-in or upload, and then that source's settings."""
    kind = st.radio("Source", SOURCES, index=int(base.data.path is not None), horizontal=True, key="data.source")
    return built_in(base.data) if kind == SOURCES[0] else uploaded(base.data)


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


st.title("Data")
base = current_config()
data = choose_source(base)
if data is not None:
    values = base.to_dict()
    same = values["data"].get("dataset") == data["dataset"] and values["data"].get("path") == data["path"]
    values["data"].update(data, features=values["data"]["features"] if same else None)
    values["tasks"] = values["tasks"] if same else []  # another table: its own default tasks
    try:
        table = table_of(DataConfig.model_validate(values["data"]).model_dump(mode="json"))
        if not values["tasks"] and values["data"]["path"] is not None:  # a new upload: suggest its last column
            last = str(table.columns[-1])
            values["tasks"] = [{"name": last, "column": last, "kind": infer_kind(table[last])}]
        config = resolve(ExperimentConfig.from_dict(values))
        st.subheader("Preview")
        st.dataframe(table.head(200), key="data.preview", height=240)
        st.subheader("Tasks")
        tasks = task_editor(table, config)
        st.subheader("Columns")
        features = inputs(table, config.model_copy(update={"tasks": tasks}))
        split = split_settings(config.data)
        values = config.to_dict()
        values["tasks"] = [task.model_dump(exclude_none=True) for task in tasks]
        values["data"].update(split, features=list(features) if features is not None else None)
        config = ExperimentConfig.from_dict(values)
        rows = check(config.to_dict())
    except MTLError as error:
        st.error(str(error))
    else:
        set_config(config)
        sync_link(config)
        st.success(f"Ready: {len(config.tasks)} tasks, {rows} training rows.")
        if st.button("Train on this", key="data.to_train", type="primary"):
            st.switch_page("pages/train.py")
