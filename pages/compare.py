"""Compare page: single-task vs multi-task over seeds, Δm%, verdicts and the Pareto front, as one background job."""

from __future__ import annotations

import json
from functools import partial
from typing import Any

import pandas as pd
import streamlit as st

from mtl_core import viz
from mtl_core.compare import study, study_runs
from mtl_core.compare.settings import ComparisonSettings, fit_work
from mtl_core.config import ExperimentConfig
from mtl_core.csv_safety import csv_text
from mtl_core.data.uploads import upload_name
from mtl_core.errors import MTLError
from mtl_core.experiment import resolve
from mtl_core.jobs import JobSnapshot, job_manager
from mtl_core.weighting import available
from mtl_core.safe_text import message, plain, safe_figure
from pages._state import (
    COMPARE_JOB_ID, comparison_settings, current_config, heartbeat, job_id, owner_id, set_comparison_settings,
    set_job_id, sync_link,
)
from pages._entry import through_entry
from pages._forms import bounded_input

through_entry()  # a deep link on a fresh server: run the entry file, which runs this page

POLL_S = 1.0


def settings_form(current: ComparisonSettings, config: ExperimentConfig) -> ComparisonSettings:
    """Strategies, seeds and sweep points; the experiment itself comes from the Data and Train pages."""
    left, middle, right = st.columns([3, 1, 1])
    strategies = left.multiselect("Multi-task strategies", available(), list(current.strategies),
                                  key="compare.strategies", help="each is compared with training every task alone")
    seeds = bounded_input(middle, "Seeds", ComparisonSettings, "seeds", current.seeds, 1, key="compare.seeds",
                          help=f"seeds {config.train.seed} to {config.train.seed} + N − 1 of train.seed; "
                               "the split stays fixed so results pair up seed by seed; fewer than 5 seeds "
                               "are weak evidence")
    points = bounded_input(right, "Pareto points", ComparisonSettings, "points", current.points, 1,
                           key="compare.points",
                           help="static weightings swept over the simplex (2 or 3 tasks); 0: none")
    chosen = ComparisonSettings(strategies=tuple(strategies) or ("equal",), seeds=int(seeds), points=int(points))
    fitted, note = fit_work(chosen, config.train.epochs, task_count(config))
    if note is not None:
        st.warning(note, icon=":material/warning:")
    return fitted


def start(config: ExperimentConfig, settings: ComparisonSettings) -> None:
    """Queue the study as one background job; a bad setting is shown instead."""
    try:
        total = study_runs(config, settings.seeds, settings.strategies, settings.points or None)
        work = partial(_work, config, settings)
        set_job_id(job_manager().submit_work(work, config, total, owner=owner_id(), group="study"), COMPARE_JOB_ID)
    except MTLError as error:
        st.error(message(error))
        return
    st.rerun()


def _work(config: ExperimentConfig, settings: ComparisonSettings, should_stop: Any, report: Any,
          on_run: Any = None) -> dict[str, Any]:
    """The study, each of its runs stored as it ends (``on_run``) when the server keeps a run store."""
    result = study(config, settings.seeds, settings.strategies, settings.points or None, should_stop, report,
                   on_run=on_run)
    return {"status": result["comparison"]["status"], **result}


def progress(snapshot: JobSnapshot) -> None:
    """Runs done of all runs, and the last one finished."""
    done, total, label = snapshot.progress or (0, 1, "")
    if snapshot.status == "queued":
        text = f"queued: number {snapshot.position} in line, waiting for a free slot (the server is busy)"
    else:
        text = f"{snapshot.status}: {done} of {total} runs" + (f" (last: {label})" if label else "")
    st.progress(min(done / max(total, 1), 1.0), text=text)


def report(results: dict[str, Any]) -> None:
    """The table (best per task in bold), Δm% in words, verdicts, bars, the Pareto plot and the downloads."""
    summary = results["comparison"]
    st.subheader("Test metric per task (mean ± std over seeds)")
    best = viz.best_methods(summary)
    table = viz.compare_table(summary)
    st.dataframe(table.style.apply(lambda column: ["font-weight: bold" if method == best.get(column.name) else ""
                                                   for method in column.index]), key="compare.table")
    st.subheader("Δm% against single-task training")
    for strategy, delta in summary["delta_m_percent"].items():
        sentence = str(delta["sentence"]).removeprefix(f"{strategy}: ")  # the name is shown in bold instead
        st.markdown(f"**{strategy}**: {message(sentence)}")
    st.caption("Δm% (Navon et al., 2022; Maninis et al., 2019): the mean relative change of each task's metric "
               "against its single-task baseline, signed so that negative means multi-task is better.")
    st.subheader("Verdicts")
    if summary.get("caution"):
        st.warning(message(summary["caution"]), icon=":material/warning:")
    for task, verdicts in summary["verdicts"].items():
        for strategy, verdict in verdicts.items():
            st.markdown(f"- **{plain(task)}** · *{strategy}*: {message(str(verdict['text']).removeprefix(f'{task}: '))}")
    for note in summary.get("notes", []):
        st.info(message(note))
    st.plotly_chart(safe_figure(viz.compare_bars(summary)), key="compare.bars")
    if results.get("pareto") is not None:
        st.plotly_chart(safe_figure(viz.pareto_plot(results["pareto"])), key="compare.pareto")
    downloads(results)


def downloads(results: dict[str, Any]) -> None:
    left, right = st.columns(2)
    left.download_button("Comparison (JSON)", json.dumps(results, indent=1), "comparison.json", "application/json",
                         key="compare.download.json")
    right.download_button("Per-run metrics (CSV)", csv_text(runs_table(results["comparison"])),
                          "comparison_runs.csv", "text/csv", key="compare.download.csv")


def runs_table(summary: dict[str, Any]) -> pd.DataFrame:
    """One row per run: method, seed, status and every test metric as ``task.metric`` columns."""
    rows = [{"method": run["method"], "seed": run["seed"], "status": run["status"],
             **{f"{task}.{metric}": value for task, values in run["test"].items() for metric, value in values.items()}}
            for run in summary["runs"]]
    return pd.DataFrame(rows)


def live(polling: bool) -> None:
    heartbeat()  # each poll: this tab is still open, its comparison goes on
    current = job_id(COMPARE_JOB_ID)
    if current is None:
        st.info("Choose strategies and seeds, then press **Start**. The model, epochs and learning rate are the "
                "Train page's; the data and tasks the Data page's.")
        return
    try:
        snapshot = job_manager().snapshot(current)
    except MTLError as error:
        st.error(message(error))
        set_job_id(None, COMPARE_JOB_ID)
        return
    progress(snapshot)
    if snapshot.error is not None:
        st.error(f"The comparison failed: {message(snapshot.error)}")
    if snapshot.results is not None:
        report(snapshot.results)
    if polling and not snapshot.active:
        st.rerun()


def task_count(config: ExperimentConfig) -> int:
    """How many tasks the experiment trains (its data set's own when none are chosen); 0 when that cannot be read."""
    try:
        return len(resolve(config).tasks)
    except MTLError:
        return 0


st.title("Compare")
config = current_config()
source = upload_name(config.data.path) if config.data.path else config.data.source
st.markdown(f"Experiment: **{plain(source)}**, architecture **{plain(config.model.architecture)}**, "
            f"{config.train.epochs} epochs, lr {config.train.lr:g} — set on the Data and Train pages.")
one_task = task_count(config) == 1
if one_task:
    st.warning("This experiment has one task: multi-task learning shares a network between two or more tasks, so "
               "there is no multi-task model to compare with training the task alone. Add a task on the **Data** "
               "page first.", icon=":material/block:")
settings = settings_form(ComparisonSettings(**comparison_settings()), config)
set_comparison_settings(settings.model_dump(mode="json"))
sync_link(config)
current_job = job_id(COMPARE_JOB_ID)
try:
    running = current_job is not None and job_manager().snapshot(current_job).active
except MTLError:  # forgotten: the panel below says so
    running = False
go, stop, _ = st.columns([1, 1, 6])
if go.button("Start", key="compare.start", type="primary", disabled=running or one_task):
    start(config, settings)
if stop.button("Stop", key="compare.stop", disabled=not running) and current_job is not None:
    job_manager().cancel(current_job)
st.fragment(run_every=POLL_S if running else None)(live)(polling=running)
