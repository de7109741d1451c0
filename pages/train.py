"""Train page: widgets → config → background job → live loss curves, then the test metrics and predictions."""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from typing import Any

import streamlit as st

from mtl_core import viz
from mtl_core.config import DEFAULT_DATASET, ExperimentConfig
from mtl_core.errors import MTLError
from mtl_core.jobs import JobSnapshot, job_manager
from pages._state import current_config, job_id, set_config, set_job_id
from pages._widgets import dataset_picker, training_settings

POLL_S = 1.0  # seconds between two reads of a running job's events


def build_config(base: ExperimentConfig, dataset: str, train: Mapping[str, Any]) -> ExperimentConfig:
    """``base`` with a built-in data set and training settings; a new data set starts from its default tasks."""
    values = base.to_dict()
    if values["data"]["path"] is not None or (values["data"]["dataset"] or DEFAULT_DATASET) != dataset:
        values["tasks"], values["data"]["params"] = [], {}
    values["data"].update(dataset=dataset, path=None)
    values["train"].update(train)
    return ExperimentConfig.from_dict(values)


def start(config: ExperimentConfig) -> None:
    """Submit a job for ``config`` and redraw the page around it; a user error is shown instead."""
    try:
        with st.spinner("Loading the data and building the model…"):
            new_job = job_manager().submit(config)
    except MTLError as error:
        st.error(str(error))
        return
    set_job_id(new_job)
    st.rerun()


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


def progress_line(snapshot: JobSnapshot) -> None:
    """A progress bar whose text is the job's status, its epochs and its time."""
    done, total = snapshot.epochs_done, snapshot.epochs
    if snapshot.status == "queued":
        text = f"queued: number {snapshot.position} in line, waiting for a free slot"
    else:
        end = snapshot.ended_at if snapshot.ended_at is not None else time.monotonic()
        elapsed = end - snapshot.started_at if snapshot.started_at is not None else 0.0
        text = f"{snapshot.status}: epoch {done} of {total}, {elapsed:.1f} s"
    st.progress(min(done / total, 1.0), text=text)


def results_section(results: Mapping[str, Any]) -> None:
    """Why the run ended (when not completed), the test metrics and a predicted-vs-true plot per regression task."""
    if results["status"] == "diverged":
        st.warning(f"The run diverged: {results['reason']}. Try a smaller learning rate.")
    elif results["status"] == "stopped":
        st.info(f"The run was {results['reason'] or 'stopped'}; the model as it was then is evaluated below.")
    st.subheader("Test metrics")
    table = viz.metrics_table(results["metrics"]["test"])
    shown = table.map(lambda value: "–" if math.isnan(value) else f"{value:.4g}")  # –: a metric of the other kind
    right = {name: st.column_config.TextColumn(alignment="right") for name in shown.columns}
    st.dataframe(shown, column_config=right, key="train.metrics")
    regression = [task["name"] for task in results["config"]["tasks"] if task["kind"] == "regression"]
    if regression:
        st.subheader("Predicted vs true (test split)")
        columns = st.columns(min(len(regression), 2))
        for index, name in enumerate(regression):
            figure = viz.pred_vs_true(results["predictions"][name], name)
            columns[index % len(columns)].plotly_chart(figure, key=f"train.pred.{name}")


def live_panel(polling: bool) -> None:
    """The current job: status, loss curves while it runs, results once it has ended."""
    snapshot = snapshot_of(job_id())
    if snapshot is None:
        st.info("Choose a data set and the settings, then press **Start**.")
        return
    progress_line(snapshot)
    if snapshot.epochs_done:
        log_y = st.toggle("Log scale", key="train.log_y")
        st.plotly_chart(viz.loss_curves(snapshot.events, log_y=log_y), key="train.loss_chart")
    if snapshot.error is not None:
        st.error(f"The run failed: {snapshot.error}")
    if snapshot.results is not None:
        results_section(snapshot.results)
    if polling and not snapshot.active:
        st.rerun()  # the run has ended: redraw the whole page, so the buttons follow and polling stops


st.title("Train")
base = current_config()
dataset = dataset_picker("train", base.data.source if base.data.path is None else DEFAULT_DATASET)
settings = training_settings("train", base.train)
config: ExperimentConfig | None
try:
    config = build_config(base, dataset, settings)
    set_config(config)
except MTLError as error:
    st.error(str(error))
    config = None

before = snapshot_of(job_id())
running = before is not None and before.active
start_column, stop_column, _ = st.columns([1, 1, 6])
if start_column.button("Start", key="train.start", type="primary", disabled=running or config is None) and config:
    start(config)
if stop_column.button("Stop", key="train.stop", disabled=not running) and before is not None:
    job_manager().cancel(before.job_id)

st.fragment(run_every=POLL_S if running else None)(live_panel)(polling=running)
