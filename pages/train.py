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
from mtl_core.store import StoredRun
from mtl_core.safe_text import message, plain
from pages._run_views import key_metric_text, run_figures, run_store, when
from pages._state import (
    JOB_RUN, RESTART_SHOWN, STORED_RUN, current_config, heartbeat, job_id, live_rows, owner_id, set_config,
    set_job_id, start_job, sync_link,
)
from pages._train_views import live_charts, progress_line, results_section, share_box
from pages._widgets import model_settings, strategy_picker, training_settings
from pages._entry import through_entry

through_entry()  # a deep link on a fresh server: run the entry file, which runs this page

POLL_S = 2.0  # seconds between two reads of a running job's events
QUEUED_POLL_S = 5.0  # ... and of a queued job's place in line: many waiting tabs then cost the server little
RECENT = 5  # runs listed under Recent runs
VIEW_KEYS = ("train.view", "train.loss_axes", "train.log_y", "train.smoothing", "train.recent", "train.start",
             "train.stop")  # what the user looks at, not what a run is trained with


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
    except MTLError as error:  # the job was forgotten, or the server restarted: say so once, show no job from now on
        set_job_id(None)
        if not restarted(st.session_state.get(JOB_RUN)):
            st.error(message(error))
        return None


RESTARTED = "The server restarted: your run was stopped; it is kept under **Runs** as interrupted."


def restarted(run_id: str | None = None) -> bool:
    """Say once that this server's start stopped this browser's run (``run_id``, else its newest run), and show
    that stored run; False when no run of this browser was stopped so."""
    store = run_store()
    if store is None or (run_id is None and st.session_state.get(RESTART_SHOWN)):
        return False
    st.session_state[RESTART_SHOWN] = True  # looked once: a fresh session's newest run is read no more
    run = store.summary(run_id) if run_id else next(iter(store.list_runs(owner=owner_id(), limit=1)), None)
    if run is None or run.status != "interrupted" or (run.finished or 0) < job_manager().created - 1:
        return False
    st.session_state[STORED_RUN] = run.id
    st.warning(RESTARTED, icon=":material/restart_alt:")
    return True


def live_panel(polling: bool, queued: bool = False) -> None:
    """The current job: status, curves while it runs, the evaluation once it has ended. ``queued``: the panel was
    set to poll at the slower pace of a queued job; once the job trains, the page is drawn again at the faster."""
    heartbeat()  # each poll: this tab is still open, its run goes on
    snapshot = snapshot_of(job_id())
    if queued and snapshot is not None and snapshot.status != "queued":
        st.rerun()  # the run has started (each run at its own moment, never all at once): poll it every POLL_S
    if snapshot is None and st.session_state.get(STORED_RUN) is None:
        restarted()  # a tab reconnected to a restarted server: its run was interrupted
    if snapshot is None and (stored := stored_run()) is not None:
        st.markdown(f"Stored run **{stored.id}** ({stored.status}, {stored.summary.epochs_run} epochs, "
                    f"{when(stored.summary.created)} UTC): press **Start** to train these settings again.")
        run_figures(stored, key="train.stored")
        return
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
        st.error(f"The run failed: {message(snapshot.error)}")
    if snapshot.results is not None:
        results_section(RunResults.from_dict(snapshot.results), job_manager().weights(snapshot.job_id))
    if polling and not snapshot.active:
        st.rerun()  # the run has ended: redraw the whole page, so the buttons follow and polling stops


def stored_run() -> StoredRun | None:
    """The stored run this session chose to look at (Recent runs, or Open in Train on Runs), if it still exists."""
    chosen, store = st.session_state.get(STORED_RUN), run_store()
    return store.get(chosen) if chosen and store is not None else None


def recent_runs() -> None:
    """This browser's last runs, kept in the run store: one is shown in full beside the settings on request."""
    store = run_store()
    if store is None:
        return
    runs = store.list_runs(owner=owner_id(), limit=RECENT)
    if not runs:
        return
    with st.expander("Recent runs", expanded=job_id() is None and not st.session_state.get(STORED_RUN)):
        for run in runs:
            text, show = st.columns([4, 1], vertical_alignment="center")
            text.caption(f"{when(run.created)} · {run.strategy} · {run.status} · {plain(key_metric_text(run))}")
            if show.button("Show", key=f"train.recent.{run.id}"):
                set_job_id(None)  # the live panel shows the stored run (a running job goes on in the background)
                st.session_state[STORED_RUN] = run.id
                stored = store.get(run.id)
                if stored is not None:  # the settings take the run's values, not the widgets' present ones
                    set_config(ExperimentConfig.from_dict(stored.config))
                    for key in [key for key in st.session_state
                                if str(key).startswith("train.") and not str(key).startswith(VIEW_KEYS)]:
                        del st.session_state[key]
                st.rerun()
        st.page_link("pages/runs.py", label="All runs", icon=":material/history:")


def data_line(config: ExperimentConfig) -> tuple[TaskSpec, ...]:
    """One line on the data and tasks being trained (they are chosen on the Data page); returns the tasks."""
    try:
        tasks = resolve(config).tasks
    except MTLError as error:
        st.error(message(error))
        return ()
    source = upload_name(config.data.path) if config.data.path else config.data.source
    described = ", ".join(f"**{plain(task.name)}** ({task.kind})" for task in tasks)
    st.markdown(f"Data: **{plain(source)}** · tasks: {described} · change them on the Data page")
    return tuple(tasks)


def select_options(tasks: tuple[TaskSpec, ...]) -> list[str]:
    """What the best epoch may be kept by: the summed validation loss, then each task's metrics."""
    return ["val_loss", *(f"{task.name}.{metric}" for task in tasks for metric in task.metrics or ())]


def best_epoch_of(snapshot: JobSnapshot | None) -> int | None:
    """The epoch ``train.select`` kept in an ended run (results' ``best_epoch``), else None."""
    if snapshot is None or snapshot.results is None:
        return None
    return RunResults.from_dict(snapshot.results).best_epoch


def run_area(config: ExperimentConfig | None) -> None:
    """Start, Stop and the live panel, drawn as one fragment: a click on Start submits the run and
    the live panel under the buttons answers at once (its place in line, or its first epoch) and goes on following
    the run, without the whole page being drawn again. Many visitors pressing Start together then each cost the
    server and their browser only this part of the page, and each hears back quickly. The live panel is a fragment
    of its own inside this one, polled while the run is queued or training; when the run ends it draws the whole
    page again."""
    before = snapshot_of(job_id())
    if st.session_state.get("train.start") and config is not None and not (before is not None and before.active):
        start_job(config)
        before = snapshot_of(job_id())
    running = before is not None and before.active
    start_column, stop_column, _ = st.columns([1, 1, 3])
    start_column.button("Start", key="train.start", type="primary", disabled=running or config is None,
                        width="stretch")
    stopped = stop_column.button("Stop", key="train.stop", disabled=not running, width="stretch")
    if stopped and before is not None:
        job_manager().cancel(before.job_id)
        st.rerun()  # the whole page: the buttons and the live panel follow the stopped run
    if config is not None and config.train.threads is not None:  # PyTorch's thread count is process-wide
        st.caption(f"train.threads = {config.train.threads} applies to the command line only: this server gives "
                   f"each run {job_manager().threads_per_job} thread(s), its cores shared by the runs training at "
                   "once (MTL_MAX_JOBS).")
    queued = before is not None and before.status == "queued"
    st.fragment(run_every=QUEUED_POLL_S if queued else POLL_S if running else None)(live_panel)(polling=running,
                                                                                             queued=queued)


title_column, share_column = st.columns([3, 1], vertical_alignment="bottom")
title_column.title("Train")
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
    recent_runs()
config: ExperimentConfig | None
try:
    config = build_config(base, model, strategy, settings)
    set_config(config)
    query = sync_link(config)
except MTLError as error:
    settings_column.error(message(error))
    config, query = None, ""

with share_column:  # beside the title, outside the fragment: its copy button (a small frame) stays as it is on a click
    share_box(config, query)
with live_column:
    st.fragment(run_area)(config)
