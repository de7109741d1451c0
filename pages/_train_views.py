"""What the Train page draws around a job: progress, live charts, the evaluation, downloads and the share link."""

from __future__ import annotations

import json
import math
import time
from typing import Any

import streamlit as st

from mtl_core import viz
from mtl_core.config import ExperimentConfig
from mtl_core.csv_safety import csv_text
from mtl_core.experiment import predictions_frame
from mtl_core.jobs import JobSnapshot
from mtl_core.results import RunResults
from mtl_core.share import cli_command
from mtl_core.viz.training import overfitting_note
from mtl_core.safe_text import message, plain, safe_figure
from pages._state import UPLOAD_NOTE


def progress_line(snapshot: JobSnapshot, rows: list[dict[str, Any]]) -> None:
    """A progress bar whose text is the job's status, its epochs, its time and (while it runs) the time left."""
    done, total = len(rows), snapshot.epochs
    if snapshot.status == "queued":
        text = f"queued: number {snapshot.position} in line, waiting for a free slot (the server is busy)"
    else:
        end = snapshot.ended_at if snapshot.ended_at is not None else time.monotonic()
        elapsed = end - snapshot.started_at if snapshot.started_at is not None else 0.0
        text = f"{snapshot.status}: epoch {done} of {total}, {elapsed:.1f} s"
        left = viz.eta_seconds(rows, total) if snapshot.active else None
        if left is not None:
            text += f", about {left:.0f} s left"
    st.progress(min(done / total, 1.0), text=text)


VIEWS = ("Losses", "Task weights", "Validation metrics")
AXES = ("Panel per task", "Relative", "One axis")


def live_charts(rows: list[dict[str, Any]], best_epoch: int | None = None, ended: bool = False) -> None:
    """One view at a time (only it is built on each refresh): per-task loss curves (a panel per task, log
    scale, smoothing), the weight each task gets per epoch, or the validation metrics. ``rows``: the run's
    epoch rows; ``best_epoch``: the epoch ``train.select`` kept, marked on the losses; ``ended``: the run is
    over, so a validation loss that has risen for many epochs is called out."""
    view = st.segmented_control("Show", VIEWS, default=VIEWS[0], key="train.view", label_visibility="collapsed")
    if view == "Task weights":
        st.plotly_chart(safe_figure(viz.weight_curves(rows)), key="train.weight_chart")
    elif view == "Validation metrics":
        st.plotly_chart(safe_figure(viz.metric_curves(rows)), key="train.metric_chart")
        if rows and rows[-1].get("metrics"):
            st.caption(f"Validation metrics after epoch {rows[-1]['epoch']}")
            st.dataframe(shown(viz.metrics_table(rows[-1]["metrics"])), key="train.val_metrics")
    else:
        loss_chart(rows, best_epoch)
    if ended and (note := overfitting_note(rows, best_epoch)) is not None:
        st.warning(message(note), icon=":material/trending_up:")


def loss_chart(rows: list[dict[str, Any]], best_epoch: int | None) -> None:
    """The loss curves with their controls: the axes (tasks' losses differ in scale), log scale, smoothing."""
    axes_column, log_column, smoothing_column = st.columns([6, 2, 3], vertical_alignment="bottom")
    axes = axes_column.segmented_control("Axes", AXES, default=AXES[0], key="train.loss_axes",
                                         help="tasks' losses differ in scale: a panel per task with its own axis, "
                                              "each loss divided by its first epoch's value, or all on one axis")
    log_y = log_column.toggle("Log scale", key="train.log_y")
    smoothing = smoothing_column.slider("Smoothing", 0.0, 0.95, 0.0, 0.05, key="train.smoothing",
                                        help="exponential moving average of each curve; 0 shows the raw values")
    figure = viz.loss_curves(rows, log_y=log_y, smoothing=smoothing, panels=axes in (None, AXES[0]),
                             relative=axes == AXES[1], best_epoch=best_epoch)
    st.plotly_chart(safe_figure(figure), key="train.loss_chart")


def shown(table: Any) -> Any:
    """Numbers to four significant digits; a dash where a metric belongs to the other kind of task."""
    return table.map(lambda value: "–" if math.isnan(value) else f"{value:.4g}")


def results_section(results: RunResults, weights: bytes | None, key: str = "train") -> None:
    """Why the run ended, the test metrics, a plot per task, the downloads and the command that repeats it.

    ``weights``: the evaluated model's saved state (None: not offered); ``key``: the prefix of the widgets' keys."""
    if results.status == "diverged":
        st.warning(f"The run diverged: {message(results.reason)}. Its history is kept above; try a smaller learning rate.")
    elif results.status == "stopped":
        st.info(f"The run was {message(results.reason or 'stopped')}; the model as it was then is evaluated below.")
    st.subheader("Test metrics")
    st.caption(evaluated_epoch(results))
    table = shown(viz.metrics_table(results.metrics["test"]))
    right = {name: st.column_config.TextColumn(alignment="right") for name in table.columns}
    st.dataframe(table, column_config=right, key=f"{key}.metrics")
    task_plots(results, key)
    downloads(results, weights, key)


def evaluated_epoch(results: RunResults) -> str:
    """Which epoch's model the test metrics are of: the one ``train.select`` kept, or the last."""
    select = results.config.get("train", {}).get("select")
    if results.best_epoch is not None and select:
        return (f"The model of epoch {results.best_epoch}, the best by {select} "
                f"(dotted line on the losses), evaluated on the test split.")
    return "The model of the last epoch, evaluated on the test split (no best epoch is kept: see More training settings)."


def task_plots(results: RunResults, key: str = "train") -> None:
    """Predicted vs true for each regression task; confusion matrix and ROC for each classification task."""
    predictions = results.predictions
    regression = [name for name in viz.regression_tasks(results) if name in predictions]
    if regression:
        st.subheader("Predicted vs true (test split)")
        columns = st.columns(min(len(regression), 2))
        for index, name in enumerate(regression):
            figure = safe_figure(viz.pred_vs_true(predictions[name], name))
            columns[index % len(columns)].plotly_chart(figure, key=f"{key}.pred.{name}")
    for name in (name for name in viz.classification_tasks(results) if name in predictions):
        st.subheader(f"{plain(name)} (test split)")
        left, right = st.columns(2)
        left.plotly_chart(safe_figure(viz.confusion_matrix_figure(predictions[name], name)),
                          key=f"{key}.confusion.{name}")
        right.plotly_chart(safe_figure(viz.roc_figure(predictions[name], name)), key=f"{key}.roc.{name}")


def downloads(results: RunResults, weights: bytes | None, key: str = "train") -> None:
    """Config (TOML), results (JSON), predictions (CSV), weights (.pt), and the equivalent command line."""
    config = ExperimentConfig.from_dict(results.config)
    st.subheader("Take it with you")
    row = st.columns(4)
    row[0].download_button("Config (TOML)", config.to_toml(), "experiment.toml", "application/toml",
                           key=f"{key}.download.config")
    row[1].download_button("Results (JSON)", json.dumps(results.to_dict(), indent=1), "results.json", "application/json",
                           key=f"{key}.download.results")
    row[2].download_button("Predictions (CSV)", csv_text(predictions_frame(results.to_dict())),
                           "predictions.csv", "text/csv", key=f"{key}.download.predictions")
    row[3].download_button("Model weights (.pt)", weights or b"", "weights.pt", "application/octet-stream",
                           key=f"{key}.download.weights", disabled=weights is None)
    st.caption("The same run from a terminal, with the config file above:")
    st.code(cli_command(config, "experiment.toml"), language="bash")


COPY_BUTTON = """<body style="margin:0">
<div style="display:flex;align-items:center;gap:10px;font-family:'Source Sans Pro',sans-serif;font-size:15px;
color:#1d2433">
<button id="copy" type="button" title="Anyone who opens this link gets the same data set, tasks, model, strategy and
settings" style="display:flex;align-items:center;gap:6px;height:40px;padding:0 14px;border-radius:8px;
border:1px solid rgba(49,51,63,0.2);background:#fff;color:inherit;cursor:pointer;font:inherit">
<svg width="16" height="16" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" aria-hidden="true">
<path d="M10 13a5 5 0 0 0 7.5.5l3-3a5 5 0 0 0-7-7l-1.7 1.7"/><path d="M14 11a5 5 0 0 0-7.5-.5l-3 3a5 5 0 0 0 7 7l1.7-1.7"/>
</svg>Copy link</button>
<span id="done" role="status" aria-live="polite" style="color:#1a7f37"></span>
</div>
<script>
const link = LINK;
const done = document.getElementById("done");
function fallback() {  // where the page is not a secure context, the clipboard API is missing
  const area = document.createElement("textarea");
  area.value = link;
  document.body.appendChild(area);
  area.select();
  const copied = document.execCommand("copy");
  area.remove();
  return copied;
}
document.getElementById("copy").addEventListener("click", async () => {
  let copied = false;
  try { await navigator.clipboard.writeText(link); copied = true; } catch (error) { copied = fallback(); }
  done.textContent = copied ? "✓ Link copied" : "Could not copy: copy the address bar instead";
});
</script>
</body>"""


def share_link(query: str) -> str:
    """The address of this exact setup: the page's address with the settings as its query string."""
    base = (st.context.url or "").split("?")[0]
    return f"{base}?{query}" if query else base


def share_box(config: ExperimentConfig | None, query: str) -> None:
    """A "Copy link" button: one click puts the address of this exact setup on the clipboard and says so."""
    link = json.dumps(share_link(query)).replace("</", "<\\/")  # a string literal that cannot end the script
    st.iframe(COPY_BUTTON.replace("LINK", link), height=44)
    if config is not None and config.data.path is not None:
        st.caption(UPLOAD_NOTE)
