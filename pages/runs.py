"""Runs page: every stored run of this browser (and the command line's): find, overlay, compare, repeat, download,
delete. ``?run=ID`` opens one run read-only, for whoever has the link."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from mtl_core import catalogue, viz
from mtl_core.config import ExperimentConfig
from mtl_core.store import STATUSES, RunStore, RunSummary, StoredRun
from mtl_core.safe_text import message, plain, safe_figure
from pages._entry import through_entry
from pages._run_views import PAGE_SIZE, delete_box, downloads, pager, run_figures, run_store, runs_table, share_text
from pages._state import STORED_RUN, owner_id, set_config, set_job_id

through_entry()  # a deep link on a fresh server: run the entry file, which runs this page

ANY = "any"
MAX_CHOSEN = 8  # runs overlaid at once: more lines than this do not read


def filters() -> dict[str, str | None]:
    """The table's filters: data set, architecture, strategy, status and a free-text search (id, names, reason)."""
    data_set, architecture, strategy, status, search = st.columns([2, 2, 2, 2, 3])
    chosen = {
        "dataset": data_set.selectbox("Data set", [ANY, *catalogue.DATASETS], key="runs.dataset",
                                      accept_new_options=True, help="a built-in name, or type an uploaded file's"),
        "architecture": architecture.selectbox("Architecture", [ANY, *catalogue.ARCHITECTURES],
                                               key="runs.architecture"),
        "strategy": strategy.selectbox("Strategy", [ANY, *catalogue.STRATEGIES], key="runs.strategy"),
        "status": status.selectbox("Status", [ANY, *STATUSES], key="runs.status"),
        "search": search.text_input("Search", key="runs.search", placeholder="id, data set, strategy, reason…"),
    }
    return {name: None if value in (ANY, "") else str(value) for name, value in chosen.items()}


def open_in_train(run: StoredRun) -> None:
    """Fill the Train page with the run's settings (data, tasks, model, weighting, training) and show the run."""
    set_config(ExperimentConfig.from_dict(run.config))
    set_job_id(None)
    st.session_state[STORED_RUN] = run.id
    st.switch_page("pages/train.py")


def one_run(store: RunStore, run: StoredRun, read_only: bool) -> None:
    """One run: its settings at a glance, Open in Train, its link, downloads, and all its figures."""
    config = ExperimentConfig.from_dict(run.config)
    st.markdown(f"**{run.id}** · {plain(run.summary.dataset)} · {plain(', '.join(run.summary.tasks))} · "
                f"{config.model.architecture} · {config.strategy.name} · {run.status}"
                f"{f' ({message(run.summary.reason)})' if run.summary.reason else ''} · {run.summary.epochs_run} epochs")
    actions = st.columns([1, 1, 2])
    if actions[0].button("Open in Train", key="runs.open", type="primary", width="stretch",
                         help="the Train page gets this run's settings, ready to train again or to change"):
        open_in_train(run)
    with actions[1].popover("Link", width="stretch"):
        st.caption("Anyone with this link sees this run, read-only:")
        st.code(share_text(run.id), language=None)
    with actions[2]:
        downloads(store, run, key="runs.download")
    if read_only:
        st.caption("Opened by its link: read-only.")
    run_figures(run, key="runs.view")


def compared(store: RunStore, chosen: Sequence[RunSummary]) -> None:
    """Several runs side by side: their curves overlaid, their test metrics, and what differs in their settings."""
    runs = [run for run in (store.get(summary.id) for summary in chosen) if run is not None]
    labels = viz.run_labels([run.summary for run in runs])
    curves, metrics, settings = st.tabs(["Curves", "Test metrics", "Settings"])
    with curves:
        split = st.segmented_control("Loss", ["validation", "training"], default="validation", key="runs.split")
        figure = viz.overlay_curves({labels[run.id]: run.history for run in runs},
                                    split="train" if split == "training" else "val")
        st.plotly_chart(safe_figure(figure), key="runs.overlay")
    with metrics:
        table = viz.metric_comparison({labels[run.id]: run.metrics.get("test", {}) for run in runs})
        st.dataframe(table, key="runs.metrics")
    with settings:
        if len(runs) == 2:
            first, second = runs
            diff = viz.config_diff(first.config, second.config, (labels[first.id], labels[second.id]))
            if diff.empty:
                st.info("The two runs have the same settings.")
            else:
                st.dataframe(diff, hide_index=True, key="runs.diff")
        else:
            st.info("Choose exactly two runs to see the settings in which they differ.")


def hyperparameters(store: RunStore, runs: Sequence[RunSummary]) -> None:
    """The finished runs of this page: their varying settings against a chosen test metric."""
    finished = [run for run in runs if run.metrics]
    keys = sorted({f"{task}.{metric}" for run in finished for task, values in run.metrics.items() for metric in values})
    if len(finished) < 2 or not keys:
        return
    st.subheader("Settings against a result")
    metric = st.selectbox("Test metric", keys, key="runs.metric")
    task, name = metric.split(".", 1)
    rows = []
    for summary in finished:
        run = store.get(summary.id)
        value = summary.metrics.get(task, {}).get(name)
        if run is not None and value is not None:
            rows.append({**viz.flatten_config(run.config), metric: value})
    st.plotly_chart(safe_figure(viz.hyperparameter_plot(rows, metric)), key="runs.parallel")
    st.caption("The finished runs listed above; only the settings that vary among them are drawn.")


def listing(store: RunStore, owner: str) -> None:
    """The filters, one page of the table, and what the user does with the runs chosen in it."""
    chosen_filters = filters()
    total = store.count_runs(visible_to=owner, **chosen_filters)
    if total == 0:
        st.info("No stored run matches these filters." if any(chosen_filters.values()) else
                "No stored runs yet: every run trained on Train or Compare, or with python -m mtl_core run, is kept "
                "here.")
        return
    offset = pager(total)
    runs = store.list_runs(visible_to=owner, limit=PAGE_SIZE, offset=offset, **chosen_filters)
    st.dataframe(runs_table(runs), key="runs.table", hide_index=True)
    labels = viz.run_labels(runs)
    kept = [run_id for run_id in st.session_state.get("runs.chosen") or [] if run_id in labels]
    st.session_state["runs.chosen"] = kept  # runs of another page or filter are let go
    ids = st.multiselect("Runs to look at", [run.id for run in runs], key="runs.chosen", max_selections=MAX_CHOSEN,
                         format_func=lambda run_id: f"{labels[run_id]} ({run_id})",
                         placeholder="Choose one run to see it in full, or several to overlay and compare")
    chosen = [run for run in runs if run.id in ids]
    if len(chosen) == 1:
        run = store.get(chosen[0].id)
        if run is not None:
            one_run(store, run, read_only=False)
    elif chosen:
        compared(store, chosen)
    if chosen:
        delete_box(store, chosen, owner)
    hyperparameters(store, runs)


st.title("Runs")
store = run_store()
if store is None:
    st.info("This server keeps no runs (MTL_STORE=off).")
else:
    shared = st.query_params.get("run")
    shared_run = store.get(shared) if shared else None
    if shared and shared_run is None:
        st.error(f"No stored run has the id {plain(repr(shared))}: it was deleted, or the link is incomplete.")
    if shared_run is not None:
        one_run(store, shared_run, read_only=True)
        if st.button("All runs", key="runs.all"):
            del st.query_params["run"]
            st.rerun()
    else:
        listing(store, owner_id())
