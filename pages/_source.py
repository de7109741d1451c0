"""The Data page's choice of data: the built-in data set menu beside an uploader, and the user's file by its name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import streamlit as st

from mtl_core.config import DEFAULT_DATASET, DataConfig, ExperimentConfig
from mtl_core.data import DATASETS
from mtl_core.data.uploads import save_upload, upload_name
from mtl_core.errors import MTLError
from mtl_core.experiment import resolve
from mtl_core.safe_text import message, plain
from pages._forms import schema_form
from pages._state import LINK_WARNINGS, UPLOAD_NOTE, set_config
from pages._widgets import dataset_picker


def built_in(current: DataConfig) -> dict[str, Any]:
    """The data set menu and its own settings (generated data sets); returns the ``data`` values."""
    name = dataset_picker("data", current.source if current.path is None else DEFAULT_DATASET)
    source = DATASETS.get(name)
    params = current.params if current.dataset == name else {}
    values = schema_form("data.params", source.params.model_json_schema(), params)
    try:  # a size past its limit (rows × features, images × pixels) is lowered to fit, as from a link
        values, notes = source.fit_size(values)
    except (TypeError, ValueError):  # a setting the engine refuses anyway: its own error is shown on load
        notes = []
    for _, note in notes:
        st.warning(plain(note), icon=":material/straighten:")
    if source.citation:
        st.caption(source.citation)
    return {"dataset": name, "path": None, "params": values}


def uploaded(file: Any) -> dict[str, Any] | None:
    """The file in the uploader, checked and stored; returns the ``data`` values, or None when it is refused."""
    try:
        path, _ = save_upload(file.name, file.getvalue())
    except MTLError as error:
        st.error(message(error))  # the page goes on: the previous setup stays as it was
        return None
    return {"dataset": None, "path": str(path), "params": {}}


def choose_source(base: ExperimentConfig) -> dict[str, Any] | None:
    """The uploader and the data set menu side by side, so one click (choosing a file) takes the user's own table.

    A file in the uploader is the source; an upload made earlier (or the file a shared link trained on) stays
    the source until the user goes back to the built-in data sets. Returns the ``data`` values, or None while a
    link's upload is awaited or a file was refused.
    """
    menu_column, file_column = st.columns(2, gap="medium")
    file = file_column.file_uploader("Or your own table (CSV, TSV or Parquet, up to 50 MB)",
                                     type=["csv", "tsv", "txt", "parquet"], key="data.upload",
                                     help="One row per example, a header line, any delimiter. The last column is "
                                          "suggested as the column to predict; pick others below.")
    if file is not None:
        menu_column.caption(f"Using your table **{plain(file.name)}**. Remove it (×) to choose a built-in data set.")
        return uploaded(file)
    awaited = UPLOAD_NOTE in (st.session_state.get(LINK_WARNINGS) or [])
    if base.data.path is None and not awaited:
        with menu_column:
            return built_in(base.data)
    with menu_column:
        if base.data.path is not None:
            st.caption(f"Using the uploaded file **{plain(file_name(base.data.path))}**.")
        else:
            st.info("The shared link trained on an uploaded table: upload the same file here to get its tasks.")
        if st.button("Use a built-in data set", key="data.built_in"):
            back_to_built_in(base)
    return {"dataset": None, "path": base.data.path, "params": {}} if base.data.path is not None else None


def back_to_built_in(base: ExperimentConfig) -> None:
    """Leave the upload: the default built-in data set with its own tasks (the model and training stay)."""
    values = base.to_dict()
    values["data"], values["tasks"] = {"dataset": DEFAULT_DATASET}, []
    set_config(resolve(ExperimentConfig.from_dict(values)))
    st.session_state[LINK_WARNINGS] = [text for text in st.session_state.get(LINK_WARNINGS) or []
                                       if text != UPLOAD_NOTE]
    st.rerun()


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
