"""Figures of one training run: loss curves by epoch, predicted vs true, the metrics table."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative

from mtl_core.tasks import CLASSIFICATION_METRICS, REGRESSION_METRICS
from mtl_core.train.events import EpochEnded, Event

PALETTE: tuple[str, ...] = tuple(qualitative.Plotly)
MARKERS_UP_TO = 50  # epochs: fewer points are drawn with markers so a short run stays readable
EVERY_TICK_UP_TO = 12  # epochs: a tick per epoch, so a short run shows no fractional epochs
SPLIT_DASH = {"train": "solid", "val": "dash"}


def loss_curves(items: Iterable[Event | Mapping[str, Any]], log_y: bool = False) -> go.Figure:
    """Per-task train (solid) and validation (dashed) loss by epoch; one colour per task.

    Args:
        items: events of a run (only EpochEnded is read) or the results dict's ``history`` entries.
        log_y: draw the loss on a log scale.

    >>> [trace.name for trace in loss_curves([{"epoch": 1, "train_loss": {"a": 1.0}, "val_loss": {"a": 2.0}}]).data]
    ['a (train)', 'a (val)']
    """
    rows = epoch_rows(items)
    mode = "lines+markers" if len(rows) <= MARKERS_UP_TO else "lines"
    figure = go.Figure()
    for index, task in enumerate(_task_names(rows)):
        for split, dash in SPLIT_DASH.items():
            points = [(row["epoch"], row[f"{split}_loss"][task]) for row in rows
                      if row.get(f"{split}_loss", {}).get(task) is not None]
            if points:
                epochs, losses = zip(*points, strict=True)
                figure.add_trace(go.Scatter(
                    x=epochs, y=losses, mode=mode, name=f"{task} ({split})", legendgroup=task,
                    line={"color": PALETTE[index % len(PALETTE)], "dash": dash},
                ))
    figure.update_layout(
        title="Loss by epoch (solid: train, dashed: validation)", xaxis_title="epoch", yaxis_title="loss",
        xaxis_dtick=1 if len(rows) <= EVERY_TICK_UP_TO else None,
        yaxis_type="log" if log_y else "linear", height=380, margin={"t": 50, "b": 40, "l": 50, "r": 20},
        legend={"orientation": "h", "yanchor": "top", "y": -0.18},
    )
    return figure


def epoch_rows(items: Iterable[Event | Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The per-epoch entries among events or history entries, as dicts with epoch, train_loss and val_loss."""
    rows: list[dict[str, Any]] = []
    for item in items:
        if isinstance(item, EpochEnded):
            rows.append(item.to_dict())
        elif isinstance(item, Mapping) and "epoch" in item and item.get("type", "epoch_ended") == "epoch_ended":
            rows.append(dict(item))
    return rows


def _task_names(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """Task names in the order they first appear."""
    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row.get("train_loss", {})))
        names.update(dict.fromkeys(row.get("val_loss", {})))
    return list(names)


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
        yaxis_title=f"predicted {name}", height=380, margin={"t": 50, "b": 40, "l": 50, "r": 20},
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
