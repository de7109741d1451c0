"""The Runs page's parts: the store, the table of runs, a stored run drawn in full, downloads and deletion."""

from __future__ import annotations

import io
import tempfile
import zipfile
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlencode

import pandas as pd
import streamlit as st

from mtl_core import viz
from mtl_core.jobs import job_manager
from mtl_core.store import RunStore, RunSummary, StoredRun
from mtl_core.safe_text import message, safe_figure

PAGE_SIZE = 25  # runs per page of the table


def run_store() -> RunStore | None:
    """The store the server's jobs write to (None when the server runs without one: ``MTL_STORE=off``)."""
    return job_manager().store


def when(stamp: float | None) -> str:
    """A Unix time as ``2026-12-03 13:05`` (UTC), or a dash."""
    if stamp is None:
        return "–"
    return datetime.fromtimestamp(stamp, tz=timezone.utc).strftime("%Y-%m-%d %H:%M")


def key_metric_text(run: RunSummary) -> str:
    """The first task's primary test metric as ``task mse 0.4123``, or a dash before the run has one."""
    key = run.key_metric
    if key is None or key[2] is None:
        return "–"
    task, metric, value = key
    return f"{task} {metric} {value:.4g}"


def runs_table(runs: Sequence[RunSummary]) -> pd.DataFrame:
    """One row per run, newest first, as the table shows them."""
    return pd.DataFrame({
        "date (UTC)": [when(run.created) for run in runs],
        "run": [run.id for run in runs],
        "data set": [run.dataset for run in runs],
        "tasks": [", ".join(run.tasks) for run in runs],
        "architecture": [run.architecture for run in runs],
        "strategy": [run.strategy for run in runs],
        "status": [run.status for run in runs],
        "epochs": [f"{run.epochs_run}/{run.epochs_planned}" for run in runs],
        "key metric (test)": [key_metric_text(run) for run in runs],
        "from": [run.source for run in runs],
    }, columns=["date (UTC)", "run", "data set", "tasks", "architecture", "strategy", "status", "epochs",
                "key metric (test)", "from"])


def pager(total: int, key: str = "runs.page") -> int:
    """Previous / next over ``total`` runs, ``PAGE_SIZE`` a page; returns the offset of the page shown."""
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    page = min(int(st.session_state.get(key, 0)), pages - 1)
    back, text, forward = st.columns([1, 3, 1], vertical_alignment="center")
    if back.button("← Newer", key=f"{key}.back", disabled=page == 0, width="stretch"):
        page -= 1
    if forward.button("Older →", key=f"{key}.next", disabled=page >= pages - 1, width="stretch"):
        page += 1
    st.session_state[key] = page
    first = page * PAGE_SIZE
    text.caption(f"Runs {min(first + 1, total)}–{min(first + PAGE_SIZE, total)} of {total} · page {page + 1} of "
                 f"{pages}")
    return first


def run_figures(run: StoredRun, key: str) -> None:
    """A stored run drawn in full: its losses per task, how it ended, its test metrics and a plot per task."""
    from pages._train_views import results_section  # the Train page's own evaluation view

    rows = viz.epoch_rows(run.history)
    if rows:
        st.plotly_chart(safe_figure(viz.loss_curves(rows, panels=True, best_epoch=run.best_epoch)), key=f"{key}.losses")
    results = run.results()
    if results is None:
        st.info(f"This run is {run.status}{f': {message(run.summary.reason)}' if run.summary.reason else ''}; "
                f"{run.summary.epochs_run} epochs were stored." if run.status != "running" else
                f"This run is still training: {run.summary.epochs_run} of {run.summary.epochs_planned} epochs so far.")
        return
    results_section(results, weights(run), key=key)


def weights(run: StoredRun) -> bytes | None:
    """The evaluated weights of a stored run (its ``checkpoints/best.pt``), or None when it has none."""
    path = Path(run.artefacts["best.pt"]) if "best.pt" in run.artefacts else None
    return path.read_bytes() if path is not None and path.is_file() else None


def export_bytes(store: RunStore, run_id: str, fmt: str) -> bytes:
    """The run exported as ``runs export`` writes it: the JSON file, or the CSV folder as one zip."""
    with tempfile.TemporaryDirectory() as folder:
        out = store.export(run_id, fmt, Path(folder) / run_id)
        if fmt == "json":
            return out.read_bytes()
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(out.iterdir()):
                archive.write(path, f"{run_id}/{path.name}")
        return buffer.getvalue()


def downloads(store: RunStore, run: StoredRun, key: str) -> None:
    """The run as JSON (config, history, metrics, predictions) and as CSV tables in a zip."""
    left, right = st.columns(2)
    left.download_button("Run (JSON)", lambda: export_bytes(store, run.id, "json"), f"run-{run.id}.json",
                         "application/json", key=f"{key}.json", width="stretch")
    right.download_button("Run (CSV tables, zip)", lambda: export_bytes(store, run.id, "csv"), f"run-{run.id}.zip",
                          "application/zip", key=f"{key}.csv", width="stretch")


def delete_box(store: RunStore, runs: Sequence[RunSummary], owner: str) -> None:
    """Delete the chosen runs of this browser, after a confirmation; other runs are deleted from the CLI."""
    own = [run for run in runs if run.owner == owner]
    others = len(runs) - len(own)
    with st.popover(f"Delete {len(own)} run{'s' if len(own) != 1 else ''}…", disabled=not own):
        st.markdown(f"Delete **{', '.join(run.id for run in own)}** with their weights and files? This cannot be "
                    f"undone.")
        sure = st.checkbox("Yes, delete them", key="runs.delete.sure")
        if st.button("Delete", key="runs.delete", type="primary", disabled=not sure):
            gone = sum(store.delete(run.id) for run in own)
            st.session_state.pop("runs.table", None)
            st.toast(f"Deleted {gone} run{'s' if gone != 1 else ''}.")
            st.rerun()
    if others:
        st.caption(f"{others} of the chosen runs were not started in this browser (command-line runs and examples): "
                   f"delete them with `python -m mtl_core runs delete ID`.")


def share_text(run_id: str) -> str:
    """The read-only link of one run: this page's address with ``?run=ID``."""
    base = (st.context.url or "").split("?")[0]
    return f"{base}?{urlencode({'run': run_id})}"
