"""Figures of one training run: loss, weight and metric curves by epoch, predicted vs true, the metrics table."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import fields
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

from mtl_core.tasks import CLASSIFICATION_METRICS, REGRESSION_METRICS
from mtl_core.train.events import EpochEnded, Event

PALETTE: tuple[str, ...] = tuple(qualitative.Plotly)
MARKERS_UP_TO = 50  # epochs: fewer points are drawn with markers so a short run stays readable
MAX_POINTS = 400  # points drawn per curve (about one per pixel column); longer runs are thinned evenly
EVERY_TICK_UP_TO = 12  # epochs: a tick per epoch, so a short run shows no fractional epochs
SPLIT_DASH = {"train": "solid", "val": "dash"}
PANELS_PER_ROW = 3  # metric_curves: small multiples, at most this many side by side
MARGIN = {"t": 50, "b": 40, "l": 50, "r": 20}
NOT_YET = "No epochs yet: each task's {what} is drawn here while it trains."  # the note on a figure with no rows


def loss_curves(items: Iterable[Event | Mapping[str, Any]], log_y: bool = False, smoothing: float = 0.0,
                panels: bool = True, relative: bool = False, best_epoch: int | None = None) -> go.Figure:
    """Per-task train (solid) and validation (dashed) loss by epoch; one colour per task.

    Tasks' losses live on different scales (an MSE in the thousands beside a cross-entropy near
    0.7), so by default each task gets a panel with its own y axis.

    Args:
        items: events of a run (only EpochEnded is read) or the results dict's ``history`` entries.
        log_y: draw the loss on a log scale.
        smoothing: weight in [0, 1) of the exponential moving average drawn instead of each raw
            curve (see ``smooth``); 0 draws the raw values.
        panels: one panel per task (their own y axes); False draws every task on one axis.
        relative: each curve divided by its first finite value, so every task starts at 1.
        best_epoch: the epoch ``train.select`` kept (the results' ``best_epoch``), marked by a dotted line.

    >>> [trace.name for trace in loss_curves([{"epoch": 1, "train_loss": {"a": 1.0}, "val_loss": {"a": 2.0}}]).data]
    ['a (train)', 'a (val)']
    """
    rows = epoch_rows(items)
    mode = "lines+markers" if len(rows) <= MARKERS_UP_TO else "lines"
    drawn = rows if smoothing else _thinned(rows)  # the moving average needs every value; thinned after it
    colours = _loss_tasks(drawn, _task_colours(rows))
    figure, place = _loss_grid(list(colours) if panels else [])
    for task, colour in colours.items():
        for split, dash in SPLIT_DASH.items():
            points = [(row["epoch"], row[f"{split}_loss"][task]) for row in drawn
                      if row.get(f"{split}_loss", {}).get(task) is not None]
            if points:
                epochs, losses = zip(*points, strict=True)
                values = _relative(losses) if relative else list(losses)
                x, y = _shown(epochs, smooth(values, smoothing))
                figure.add_trace(go.Scatter(x=x, y=y, mode=mode, name=f"{task} ({split})", legendgroup=task,
                                            line={"color": colour, "dash": dash}), **place(task))
    figure.update_layout(title=_loss_title(smoothing, relative, best_epoch if rows else None),
                         height=_panel_height(len(colours) if panels else 1), margin=MARGIN,
                         legend={"orientation": "h", "yanchor": "top", "y": -0.18})
    figure.update_xaxes(title_text="epoch", dtick=1 if len(rows) <= EVERY_TICK_UP_TO else None)
    figure.update_yaxes(type="log" if log_y else "linear")
    figure.update_yaxes(title_text="loss / first epoch's" if relative else "loss", **({"col": 1} if panels and colours else {}))
    if best_epoch is not None and rows:
        figure.add_vline(x=best_epoch, line={"color": "black", "dash": "dot", "width": 1.5},
                         **({"row": "all", "col": "all"} if panels and colours else {}))
    if not rows:
        _note(figure, NOT_YET.format(what="loss"))
    return figure


def _loss_tasks(rows: Sequence[Mapping[str, Any]], colours: Mapping[str, str]) -> dict[str, str]:
    """The tasks that have a loss among ``rows``, with their colours (a task with weights only gets no panel)."""
    named = {task for row in rows for split in ("train_loss", "val_loss") for task in (row.get(split) or {})}
    return {task: colour for task, colour in colours.items() if task in named}


def _grid(count: int) -> tuple[int, int]:
    """(rows, columns) of small multiples: at most ``PANELS_PER_ROW`` side by side; 4 panels as 2 x 2."""
    columns = 2 if count == 4 else max(min(count, PANELS_PER_ROW), 1)
    return math.ceil(max(count, 1) / columns), columns


def _panel_height(count: int) -> int:
    n_rows = _grid(count)[0]
    return 380 if n_rows == 1 else 120 + 260 * n_rows


def _loss_grid(tasks: Sequence[str]) -> tuple[go.Figure, Any]:
    """A figure with one panel per task (none: one plain axis) and a function giving a task's ``row``/``col``."""
    if not tasks:
        return go.Figure(), lambda task: {}
    n_rows, columns = _grid(len(tasks))
    figure = make_subplots(rows=n_rows, cols=columns, subplot_titles=list(tasks), horizontal_spacing=0.08,
                           vertical_spacing=0.35 / n_rows)
    index = {task: position for position, task in enumerate(tasks)}
    return figure, lambda task: {"row": index[task] // columns + 1, "col": index[task] % columns + 1}


def _loss_title(smoothing: float, relative: bool, best_epoch: int | None) -> str:
    parts = ["solid: train", "dashed: validation"]
    if relative:
        parts.append("each divided by its first epoch")
    if smoothing:
        parts.append(f"smoothed {smoothing:g}")
    if best_epoch is not None:
        parts.append(f"dotted line: epoch {best_epoch}, the one kept")
    return f"Loss by epoch ({', '.join(parts)})"


def _relative(values: Sequence[float | None]) -> list[float]:
    """The values divided by the first finite non-zero one (unchanged when there is none)."""
    first = next((float(value) for value in values
                  if value is not None and math.isfinite(value) and value != 0), None)
    return [math.nan if value is None else (value / first if first else value) for value in values]


OVERFIT_EPOCHS = 10  # epochs the validation loss must have stayed past its lowest point
OVERFIT_RISE = 0.05  # how far above its lowest point the last value must be (relative)


def overfitting_note(items: Iterable[Event | Mapping[str, Any]], best_epoch: int | None = None,
                     epochs: int = OVERFIT_EPOCHS, rise: float = OVERFIT_RISE) -> str | None:
    """A sentence when a task's validation loss has risen for many epochs, else None.

    A task overfits when its lowest validation loss came at least ``epochs`` epochs before the last
    epoch and the last is more than ``rise`` (relative) above it. ``best_epoch``: the epoch
    ``train.select`` kept, if any (then the evaluation is of that epoch, not the last).

    >>> rows = [{"epoch": n, "val_loss": {"y": abs(n - 5) + 1.0}} for n in range(1, 21)]
    >>> print(overfitting_note(rows))
    Overfitting: the validation loss of y was lowest at epoch 5 (1) and has risen since, to 16 at epoch 20 (+1500 %). The test metrics are those of the last epoch: under More training settings, keep the best epoch by val_loss, or train for about 5 epochs.
    >>> overfitting_note(rows[:12]) is None
    True
    """
    rows = epoch_rows(items)
    risen = [found for task in _task_names(rows) if (found := _risen(rows, task, epochs, rise)) is not None]
    if not risen:
        return None
    described = "; ".join(f"of {task} was lowest at epoch {low_epoch} ({low:.4g}) and has risen since, to "
                          f"{last:.4g} at epoch {last_epoch} (+{100 * (last - low) / abs(low):.0f} %)"
                          for task, low_epoch, low, last_epoch, last in risen)
    if best_epoch is not None:
        advice = f"The test metrics are those of epoch {best_epoch}, the one kept by the best-epoch setting."
    else:
        earliest = min(low_epoch for _, low_epoch, *_ in risen)
        advice = ("The test metrics are those of the last epoch: under More training settings, keep the best "
                  f"epoch by val_loss, or train for about {earliest} epochs.")
    return f"Overfitting: the validation loss {described}. {advice}"


def _risen(rows: Sequence[Mapping[str, Any]], task: str, epochs: int,
           rise: float) -> tuple[str, int, float, int, float] | None:
    """(task, epoch of the lowest validation loss, that loss, last epoch, last loss) when it rose; else None."""
    points = [(int(row["epoch"]), float(value)) for row in rows
              if (value := (row.get("val_loss") or {}).get(task)) is not None and math.isfinite(value)]
    if not points:
        return None
    low_epoch, low = min(points, key=lambda point: (point[1], point[0]))
    last_epoch, last = points[-1]
    if last_epoch - low_epoch < epochs or last - low <= rise * abs(low) or low == 0:
        return None
    return task, low_epoch, low, last_epoch, last


def _thinned(rows: Sequence[Mapping[str, Any]]) -> Sequence[Mapping[str, Any]]:
    """At most ``MAX_POINTS`` rows, evenly spaced, the first and the last among them.

    The figures pick their rows before reading any value, so a refresh of a long live run costs the
    same at epoch 100 000 as at epoch 400.
    """
    if len(rows) <= MAX_POINTS:
        return rows
    return [rows[index] for index in np.unique(np.linspace(0, len(rows) - 1, MAX_POINTS).round().astype(int))]


def _shown(epochs: Sequence[float], values: Sequence[float | None]) -> tuple[np.ndarray, np.ndarray]:
    """A curve as arrays (plotly takes them without checking each value), thinned to ``MAX_POINTS``.

    A live run of thousands of epochs is redrawn every second: evenly spaced epochs, the first and
    the last always among them, keep the figure small and its shape intact.
    """
    x = np.asarray(epochs, dtype=float)
    y = np.asarray([math.nan if value is None else value for value in values], dtype=float)
    if len(x) > MAX_POINTS:
        keep = np.unique(np.linspace(0, len(x) - 1, MAX_POINTS).round().astype(int))
        x, y = x[keep], y[keep]
    return x, y


def smooth(values: Sequence[float], weight: float) -> list[float]:
    """Exponential moving average with TensorBoard's debiasing, so the first point is unchanged.

    ``s_t = (w·m_{t-1} + (1 - w)·x_t) / (1 - w^n)`` where ``m`` is the running average and ``n``
    the finite values seen so far; non-finite values are kept as they are and skipped by the average.

    >>> smooth([1.0, 3.0], 0.5)
    [1.0, 2.3333333333333335]
    >>> smooth([1.0, 3.0], 0.0)
    [1.0, 3.0]
    """
    if not 0.0 <= weight < 1.0:
        raise ValueError(f"smoothing = {weight!r} must be in [0, 1)")
    if weight == 0.0:
        return list(values)
    average, seen, smoothed = 0.0, 0, []
    for value in values:
        if not math.isfinite(value):
            smoothed.append(value)
            continue
        average, seen = weight * average + (1.0 - weight) * value, seen + 1
        smoothed.append(average / (1.0 - weight ** seen))
    return smoothed


def weight_curves(items: Iterable[Event | Mapping[str, Any]]) -> go.Figure:
    """The mean weight each task got in each epoch, in the task colours of ``loss_curves``.

    Methods that return an update direction instead of task weights (most gradient methods)
    record none; the figure is then empty with a note saying so.

    >>> figure = weight_curves([{"epoch": 1, "train_loss": {"a": 1.0}, "weights": {"a": 0.25}}])
    >>> [(trace.name, trace.y.tolist()) for trace in figure.data]
    [('a', [0.25])]
    """
    rows = epoch_rows(items)
    mode = "lines+markers" if len(rows) <= MARKERS_UP_TO else "lines"
    figure = go.Figure()
    for task, colour in _task_colours(rows).items():
        points = [(row["epoch"], row["weights"][task]) for row in _thinned(rows)
                  if (row.get("weights") or {}).get(task) is not None]
        if points:
            x, y = _shown(*zip(*points, strict=True))
            figure.add_trace(go.Scatter(x=x, y=y, mode=mode, name=task, line={"color": colour}))
    figure.update_layout(title="Task weight by epoch (mean over the epoch's steps)", xaxis_title="epoch",
                         yaxis_title="weight", xaxis_dtick=1 if len(rows) <= EVERY_TICK_UP_TO else None,
                         height=380, margin=MARGIN, legend={"orientation": "h", "yanchor": "top", "y": -0.18})
    if not rows:
        _note(figure, NOT_YET.format(what="weight"))
    elif not figure.data:
        _note(figure, "This strategy gives no per-task weights: it combines the task gradients into one "
                      "update direction instead.")
    return figure


def metric_curves(items: Iterable[Event | Mapping[str, Any]], metrics: Mapping[str, str] | None = None) -> go.Figure:
    """Each task's validation metric by epoch, one small panel per task (their scales differ).

    Args:
        items: events or ``history`` entries.
        metrics: ``{task: metric}`` to draw; a task not named (or whose metric was not recorded)
            shows the first metric of its entries.

    >>> figure = metric_curves([{"epoch": 1, "metrics": {"a": {"r2": 0.5, "mse": 1.0}}}], {"a": "mse"})
    >>> [(trace.name, trace.y.tolist()) for trace in figure.data]
    [('a: mse', [1.0])]
    """
    rows = epoch_rows(items)
    drawn = _thinned(rows)
    chosen = _chosen_metrics(drawn, metrics or {})
    if not chosen:
        figure = go.Figure()
        figure.update_layout(title="Validation metrics by epoch", height=380, margin=MARGIN)
        _note(figure, "No validation metrics: this run has no validation rows (data.val_size = 0)." if rows
              else NOT_YET.format(what="validation metrics"))
        return figure
    columns = 2 if len(chosen) == 4 else min(len(chosen), PANELS_PER_ROW)  # 4 tasks: 2 x 2, not 3 + 1
    n_rows = math.ceil(len(chosen) / columns)
    figure = make_subplots(rows=n_rows, cols=columns, subplot_titles=[f"{t}: {m}" for t, m in chosen.items()],
                           horizontal_spacing=0.08, vertical_spacing=0.35 / n_rows)
    colours = _task_colours(rows)
    mode = "lines+markers" if len(rows) <= MARKERS_UP_TO else "lines"
    for index, (task, metric) in enumerate(chosen.items()):
        points = [(row["epoch"], row["metrics"][task][metric]) for row in drawn
                  if metric in ((row.get("metrics") or {}).get(task) or {})]
        x, y = _shown(*zip(*points, strict=True))
        figure.add_trace(go.Scatter(x=x, y=y, mode=mode, name=f"{task}: {metric}",
                                    line={"color": colours.get(task, PALETTE[0])}),
                         row=index // columns + 1, col=index % columns + 1)
    figure.update_xaxes(title_text="epoch", dtick=1 if len(rows) <= EVERY_TICK_UP_TO else None)
    figure.update_layout(title="Validation metrics by epoch", height=120 + 260 * n_rows, margin=MARGIN,
                         showlegend=False)
    return figure


def _chosen_metrics(rows: Sequence[Mapping[str, Any]], wanted: Mapping[str, str]) -> dict[str, str]:
    """{task: metric} for every task with validation metrics: the wanted one when recorded, else its first."""
    recorded: dict[str, dict[str, None]] = {}
    for row in rows:
        for task, values in (row.get("metrics") or {}).items():
            recorded.setdefault(task, {}).update(dict.fromkeys(values or {}))
    return {task: wanted[task] if wanted.get(task) in names else next(iter(names))
            for task, names in recorded.items() if names}


def eta_seconds(items: Iterable[Event | Mapping[str, Any]], epochs_total: int) -> float | None:
    """Seconds left: the epochs still to run times the mean time per epoch so far (None before the first epoch).

    The mean is the last row's ``elapsed_s`` over its epoch when it is recorded (every event and
    history entry has it; it counts the time between epochs too), else the mean ``duration_s``.

    >>> eta_seconds([{"epoch": 1, "duration_s": 2.0}, {"epoch": 2, "duration_s": 4.0}], 5)
    9.0
    >>> eta_seconds([{"epoch": 1, "elapsed_s": 2.5}, {"epoch": 2, "elapsed_s": 5.0}], 5)
    7.5
    >>> eta_seconds([], 5) is None
    True
    """
    rows = epoch_rows(items)
    if not rows:
        return None
    last = rows[-1]
    done = int(last["epoch"])
    if isinstance(last.get("elapsed_s"), (int, float)) and done > 0:
        per_epoch = float(last["elapsed_s"]) / done
    else:
        durations = [float(row["duration_s"]) for row in rows if isinstance(row.get("duration_s"), (int, float))]
        if not durations:
            return None
        per_epoch = math.fsum(durations) / len(durations)
    return max(epochs_total - done, 0) * per_epoch


class Rows(list):  # type: ignore[type-arg]
    """A list that ``epoch_rows`` made: passed to it again, it is returned as it is."""


def epoch_rows(items: Iterable[Event | Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The per-epoch entries among events or history entries, as dicts with epoch, train_loss and val_loss.

    Rows are read, never changed: an event becomes a shallow dict of its fields. What this function
    returns is taken back as it is, so the figures of a live run each read the same rows for free.
    """
    if type(items) is Rows:
        return items
    rows = Rows()
    for item in items:
        if isinstance(item, EpochEnded):  # a shallow view: the figures only read it, and a live run has thousands
            rows.append({name: getattr(item, name) for name in _EPOCH_FIELDS})
        elif isinstance(item, Mapping) and "epoch" in item and item.get("type", "epoch_ended") == "epoch_ended":
            rows.append(dict(item))
    return rows


_EPOCH_FIELDS: tuple[str, ...] = tuple(field.name for field in fields(EpochEnded))


class EpochRows:
    """The rows of a growing event buffer, each event converted once: for redrawing a live run.

    ``update(events)`` takes the run's events so far (the buffer only grows) and converts just the
    ones added since the last call; a shorter buffer (another run) starts over.

    >>> live = EpochRows()
    >>> events = [{"epoch": 1, "train_loss": {"a": 1.0}}]
    >>> len(live.update(events)), len(live.update(events + [{"epoch": 2, "train_loss": {"a": 0.5}}]))
    (1, 2)
    """

    def __init__(self) -> None:
        self.rows = Rows()
        self._seen = 0  # events converted so far

    def update(self, events: Sequence[Event | Mapping[str, Any]]) -> list[dict[str, Any]]:
        """The rows of all of ``events``; only those past the last call's length are converted."""
        if len(events) < self._seen:
            self.rows, self._seen = Rows(), 0
        self.rows.extend(epoch_rows(events[self._seen:]))
        self._seen = len(events)
        return self.rows


def _task_names(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """Task names in the order they first appear (losses first, then weights and metrics).

    Every epoch of a run names the same tasks, so a long run is read at the drawn rows only.
    """
    names: dict[str, None] = {}
    rows = _thinned(rows)
    for row in rows:
        names.update(dict.fromkeys(row.get("train_loss") or {}))
        names.update(dict.fromkeys(row.get("val_loss") or {}))
    for row in rows:
        names.update(dict.fromkeys(row.get("weights") or {}))
        names.update(dict.fromkeys(row.get("metrics") or {}))
    return list(names)


def _task_colours(rows: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """One palette colour per task, the same in every figure of a run."""
    return {task: PALETTE[index % len(PALETTE)] for index, task in enumerate(_task_names(rows))}


def _note(figure: go.Figure, text: str) -> None:
    """A centred message on an empty figure, with the axes hidden."""
    figure.add_annotation(text=text, x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False,
                          font={"size": 14, "color": "grey"})
    figure.update_xaxes(visible=False)
    figure.update_yaxes(visible=False)


def pred_vs_true(predictions: Mapping[str, Any], name: str) -> go.Figure:
    """Predicted against true values of one regression task's test rows, with the line y = x.

    Args:
        predictions: one task's entry of the results dict's ``predictions``: ``true``, ``pred``, ``row``.
        name: the task's name, for the title and axes.

    >>> figure = pred_vs_true({"true": [1.0, 3.0], "pred": [2.0, 2.5]}, "quality")
    >>> list(figure.data[1].x), list(figure.data[1].y)
    ([1.0, 3.0], [1.0, 3.0])
    """
    true, pred = list(predictions.get("true", [])), list(predictions.get("pred", []))
    rows = list(predictions.get("row", range(len(true))))
    finite = [value for value in (*true, *pred) if value is not None and math.isfinite(value)]
    low, high = (min(finite), max(finite)) if finite else (0.0, 1.0)
    figure = go.Figure([
        go.Scatter(x=true, y=pred, mode="markers", name="test rows", customdata=rows,
                   marker={"size": 7, "opacity": 0.7, "color": PALETTE[0]},
                   hovertemplate="row %{customdata}<br>true %{x:.4g}<br>predicted %{y:.4g}<extra></extra>"),
        go.Scatter(x=[low, high], y=[low, high], mode="lines", name="y = x", hoverinfo="skip",
                   line={"color": "grey", "dash": "dash"}),
    ])
    figure.update_layout(
        title=f"{name}: predicted vs true (test split)", xaxis_title=f"true {name}",
        yaxis_title=f"predicted {name}", height=380, margin=MARGIN,
        showlegend=False,
    )
    return figure


def metrics_table(metrics: Mapping[str, Mapping[str, float | None]]) -> pd.DataFrame:
    """Tasks as rows, metrics as columns (regression metrics first, then classification); None becomes NaN.

    >>> table = metrics_table({"quality": {"r2": 0.25, "mse": 0.5}, "good": {"accuracy": 0.75, "auc": None}})
    >>> table.index.tolist(), table.columns.tolist()
    (['quality', 'good'], ['mse', 'r2', 'accuracy', 'auc'])
    """
    known = [*REGRESSION_METRICS, *CLASSIFICATION_METRICS]
    present = {metric for values in metrics.values() for metric in values}
    columns = [metric for metric in known if metric in present] + sorted(present - set(known))
    values = [[_number(row.get(metric)) for metric in columns] for row in metrics.values()]
    return pd.DataFrame(values, index=pd.Index(list(metrics), name="task"), columns=columns, dtype=float)


def _number(value: float | None) -> float:
    return math.nan if value is None else float(value)
