"""Sweep page: a base experiment, the settings to vary over seeds, a metric; trials trained as one background job
on local processes (or Ray), shown live, the best highlighted, the swept settings against the metric."""

from __future__ import annotations

import importlib.util
import json
from typing import Any

import streamlit as st

from mtl_core import limits
from mtl_core.config import ExperimentConfig
from mtl_core.errors import MTLError
from mtl_core.jobs import JobSnapshot, job_manager
from mtl_core.presets import PRESETS, preset
from mtl_core.safe_text import message, plain, safe_figure
from mtl_core.sweep import parse_sweep
from mtl_core.sweep.form import base_config, metric_choices, sweep_values
from mtl_core.sweep.views import best_style, parallel_figure, trials_frame
from mtl_core.weighting import available
from pages._entry import through_entry
from pages._state import SWEEP_JOB_ID, current_config, heartbeat, job_id, owner_id, set_job_id
from pages._widgets import dataset_picker

through_entry()  # a deep link on a fresh server: run the entry file, which runs this page

POLL_S = 1.0
BASES = ("Current Train settings", "Preset", "Data set")


def choose_base() -> ExperimentConfig | None:
    """The experiment every trial starts from: this session's Train settings, a preset, or a data set's defaults."""
    kind = st.radio("Base experiment", BASES, horizontal=True, key="sweep.base")
    if kind == "Preset":
        keys = [item.key for item in PRESETS]
        chosen = st.selectbox("Preset", keys, key="sweep.preset", format_func=lambda key: preset(key).title)
        return base_config(preset(chosen).config())
    if kind == "Data set":
        return base_config({"data": {"dataset": dataset_picker("sweep")}})
    return current_config()


def varied(config: ExperimentConfig) -> dict[str, Any]:
    """The keys to vary, the seeds and the metric, as plain values (``mtl_core.sweep.form.sweep_values`` reads them)."""
    left, right = st.columns(2)
    strategies = left.multiselect("Strategies (strategy.name)", available(), [config.strategy.name],
                                  key="sweep.strategies")
    hidden = left.text_input("Hidden layers (model.hidden), ';' between choices",
                             ",".join(str(units) for units in config.model.hidden), key="sweep.hidden",
                             help="e.g. 32; 64,64 tries one layer of 32 units and two of 64")
    lr_kind = right.radio("Learning rate (train.lr)", ["grid", "log-uniform"], horizontal=True, key="sweep.lr_kind")
    if lr_kind == "grid":
        lr: dict[str, Any] = {"grid": right.text_input("Values, ',' between them", f"{config.train.lr:g}",
                                                        key="sweep.lr_values")}
    else:
        low = right.number_input("From", 1e-6, 1e6, 1e-4, format="%g", key="sweep.lr_low")
        high = right.number_input("To", 1e-6, 1e6, 1e-1, format="%g", key="sweep.lr_high")
        lr = {"log_uniform": (low, high), "samples": right.number_input("Samples", 1, limits.MAX_TRIALS, 4,
                                                                        key="sweep.samples")}
    seeds = left.number_input("Seeds", 1, limits.MAX_SEEDS, 1, key="sweep.seeds",
                              help=f"train.seed from {config.train.seed} upwards")
    choices = metric_choices(config)
    metric = right.selectbox("Metric", list(choices), key="sweep.metric")
    return {"strategies": strategies, "hidden": hidden, "lr": lr, "seeds": int(seeds), "metric": metric,
            "mode": choices.get(metric, "min")}


def where_to_run() -> tuple[str, int]:
    """The backend (ray only when installed) and the trials at once, clamped to MAX_CONCURRENT_TRIALS."""
    left, right = st.columns(2)
    backends = ["local", *(["ray"] if importlib.util.find_spec("ray") is not None else [])]
    backend = left.selectbox("Backend", backends, key="sweep.backend",
                             help="local: processes on this server; ray: Ray Tune (pip install -r requirements-scale.txt)")
    wanted = int(right.number_input("Trials at once", 1, 64, min(2, limits.MAX_CONCURRENT_TRIALS),
                                    key="sweep.concurrent"))
    if wanted > limits.MAX_CONCURRENT_TRIALS:
        st.warning(f"Trials at once lowered to {limits.MAX_CONCURRENT_TRIALS}: "
                   f"{limits.describe('MAX_CONCURRENT_TRIALS')}.", icon=":material/warning:")
    return str(backend), min(wanted, limits.MAX_CONCURRENT_TRIALS)


def start(config: ExperimentConfig, choices: dict[str, Any], backend: str, concurrent: int) -> None:
    """Build and check every trial, then queue the sweep as one job; a bad setting is shown instead."""
    from mtl_core.sweep.form import submit_sweep

    try:
        spec = parse_sweep(sweep_values(config, choices), "sweep")
        job, note = submit_sweep(job_manager(), spec, config, backend, concurrent, owner_id())
    except MTLError as error:
        st.error(message(error))
        return
    if note:
        st.warning(message(note), icon=":material/warning:")
    set_job_id(job, SWEEP_JOB_ID)


def live_trials(snapshot: JobSnapshot, metric: str) -> None:
    """While it trains: the trials stored so far (label, status, metric), read from the run store."""
    from mtl_core.sweep.form import stored_trials

    store = job_manager().store
    if store is None or snapshot.group_id is None:
        return
    frame = stored_trials(store, snapshot.group_id, metric)
    if not frame.empty:
        st.dataframe(frame, key="sweep.live", hide_index=True)


def report(summary: dict[str, Any]) -> None:
    """The trials with the best one highlighted, and the swept settings against the metric."""
    metric, keys = summary["metric"], summary["keys"]
    frame = trials_frame(summary["trials"], keys, metric["name"])
    best = summary["best"]
    if best is not None:
        st.success(f"Best: trial {best['index']}, {plain(best['label'])}: {plain(metric['name'])} = "
                   f"{best['value']:.6g}", icon=":material/trophy:")
    st.dataframe(best_style(frame, best["index"] if best else None), key="sweep.trials", hide_index=True)
    for note in summary.get("notes", []):
        st.info(message(note))
    if frame[metric["name"]].notna().sum() >= 2:
        st.plotly_chart(safe_figure(parallel_figure(frame, keys, metric["name"], metric["mode"])), key="sweep.parallel")
    st.download_button("Sweep (JSON)", json.dumps(summary, indent=1), "sweep.json", "application/json",
                       key="sweep.download")


def live(polling: bool, metric: str) -> None:
    heartbeat()
    current = job_id(SWEEP_JOB_ID)
    if current is None:
        st.info("Choose a base, the settings to vary and a metric, then press **Start**.")
        return
    try:
        snapshot = job_manager().snapshot(current)
    except MTLError as error:
        st.error(message(error))
        set_job_id(None, SWEEP_JOB_ID)
        return
    done, total, label = snapshot.progress or (0, 1, "")
    st.progress(min(done / max(total, 1), 1.0), text=f"{snapshot.status}: {done} of {total} trials"
                + (f" (last: {plain(label)})" if label else ""))
    if snapshot.error is not None:
        st.error(f"The sweep failed: {message(snapshot.error)}")
    if snapshot.results is not None and "trials" in snapshot.results:
        report(snapshot.results)
    elif snapshot.active:
        live_trials(snapshot, metric)
    if polling and not snapshot.active:
        st.rerun()


st.title("Sweep")
st.caption("Every trial is a run in the store (Runs page, grouped); `python -m mtl_core sweep FILE` does the same "
           "from a sweep file, on Ray too.")
try:
    base = choose_base()
    choices = varied(base) if base is not None else None
except MTLError as error:  # a base whose data cannot be read (an upload gone), a preset past a limit
    st.error(message(error))
    base = choices = None
if base is not None and choices is not None:
    backend, concurrent = where_to_run()
    current_job = job_id(SWEEP_JOB_ID)
    try:
        running = current_job is not None and job_manager().snapshot(current_job).active
    except MTLError:
        running = False
    go, stop, _ = st.columns([1, 1, 6])
    if go.button("Start", key="sweep.start", type="primary", disabled=running):
        start(base, choices, backend, concurrent)
        running = True
    if stop.button("Stop", key="sweep.stop", disabled=not running) and current_job is not None:
        job_manager().cancel(current_job)
    st.fragment(run_every=POLL_S if running else None)(live)(polling=running, metric=choices["metric"])
