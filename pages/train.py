"""Train page: widgets → config → background job → live curves, then the evaluation and the downloads."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import streamlit as st

from mtl_core.config import ExperimentConfig
from mtl_core.data.uploads import upload_name
from mtl_core.errors import MTLError
from mtl_core.experiment import resolve
from mtl_core.jobs import JobSnapshot, job_manager
from mtl_core.results import RunResults
from mtl_core.tasks import TaskSpec
from pages._state import current_config, job_id, live_rows, set_config, set_job_id, start_job, sync_link
from pages._train_views import live_charts, progress_line, results_section, share_box
from pages._widgets import model_settings, strategy_picker, training_settings
from pages._entry import through_entry

through_entry()  # a deep link on a fresh server: run the entry file, which runs this page

POLL_S = 2.0  # seconds between two reads of a running job's events


def build_config(base: ExperimentConfig, model: Mapping[str, Any], strategy: Mapping[str, Any],
                 train: Mapping[str, Any]) -> ExperimentConfig:
    """``base`` (data and tasks from the Data page or a preset) with this page's model, strategy and training."""
    values = base.to_dict()
    values["model"] = dict(model)
    values["strategy"] = dict(strategy)
    values["train"].update(train)
    return ExperimentConfig.from_dict(values)


def snapshot_of(current: str | None) -> JobSnapshot | None:
    """The current job's state, or None when there is none (or it was forgotten: then say so)."""
    if current is None:
        return None
    try:
        return job_manager().snapshot(current)
    except MTLError as error:  # the job was forgotten: say so once, and show no job from now on
        st.error(str(error))
        set_job_id(None)
        return None


def live_panel(polling: bool) -> None:
    """The current job: status, curves while it runs, the evaluation once it has ended."""
    snapshot = snapshot_of(job_id())
    if snapshot is None:
        st.info("Choose the settings, then press **Start**. Data and tasks are chosen on the **Data** page, "
                "or start from a preset on **Home**.")
        live_charts([])  # the empty view: its controls and chart code are loaded now, not in the run's first seconds
        return
    rows = live_rows(snapshot.job_id, snapshot.events)  # every figure below reads these rows
    progress_line(snapshot, rows)
    if rows:
        live_charts(rows, best_epoch_of(snapshot), ended=not snapshot.active)
    if snapshot.error is not None:
        st.error(f"The run failed: {snapshot.error}")
    if snapshot.results is not None:
        results_section(RunResults.from_dict(snapshot.results), snapshot.job_id)
    if polling and not snapshot.active:
        st.rerun()  # the run has ended: redraw the whole page, so the buttons follow and polling stops


def data_line(config: ExperimentConfig) -> tuple[TaskSpec, ...]:
    """One line on the data and tasks being trained (they are chosen on the Data page); returns the tasks."""
    try:
        tasks = resolve(config).tasks
    except MTLError as error:
        st.error(str(error))
        return ()
    source = upload_name(config.data.path) if config.data.path else config.data.source
    described = ", ".join(f"**{task.name}** ({task.kind})" for task in tasks)
    st.markdown(f"Data: **{source}** · tasks: {described} · change them on the Data page")
    return tuple(tasks)


def select_options(tasks: tuple[TaskSpec, ...]) -> list[str]:
    """What the best epoch may be kept by: the summed validation loss, then each task's metrics."""
    return ["val_loss", *(f"{task.name}.{metric}" for task in tasks for metric in task.metrics or ())]


def best_epoch_of(snapshot: JobSnapshot | None) -> int | None:
    """The epoch ``train.select`` kept in an ended run (results' ``best_epoch``), else None."""
    if snapshot is None or snapshot.results is None:
        return None
    return RunResults.from_dict(snapshot.results).best_epoch


st.title("Train")
base = current_config()
tasks = data_line(base)
settings_column, live_column = st.columns([1, 2], gap="medium")  # Start and the live charts beside the settings
with settings_column:
    with st.expander("Model", expanded=True):
        model = model_settings("train", base.model)
    with st.expander("Weighting", expanded=True):
        strategy = strategy_picker("train", base.strategy, [task.name for task in tasks])
    with st.expander("Training", expanded=True):
        settings = training_settings("train", base.train, select_options(tasks))
config: ExperimentConfig | None
try:
    config = build_config(base, model, strategy, settings)
    set_config(config)
    query = sync_link(config)
except MTLError as error:
    settings_column.error(str(error))
    config, query = None, ""

before = snapshot_of(job_id())
if st.session_state.get("train.start") and config is not None and not (before is not None and before.active):
    # the run a click on Start caused: submit before the buttons and the live panel are drawn, so this
    # same run draws them for the new job (a second full run would compete with the first epochs)
    with live_column:
        start_job(config)
    before = snapshot_of(job_id())
running = before is not None and before.active
with live_column:
    start_column, stop_column, share_column = st.columns([1, 1, 3])
    start_column.button("Start", key="train.start", type="primary", disabled=running or config is None,
                        width="stretch")
    if stop_column.button("Stop", key="train.stop", disabled=not running, width="stretch") and before is not None:
        job_manager().cancel(before.job_id)
    with share_column:
        share_box(config, query)
    st.fragment(run_every=POLL_S if running else None)(live_panel)(polling=running)
