"""Figures and tables that compare stored runs: loss curves overlaid, test metrics side by side, what settings
differ, and hyper-parameters against a metric.

Pure functions of plain values (a run's summary, its history entries, its config dict, its test metrics), so
they are tested without a run store.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from mtl_core.store.records import RunSummary
from mtl_core.tasks import HIGHER_IS_BETTER
from mtl_core.viz.compare import method_colours
from mtl_core.viz.training import EVERY_TICK_UP_TO, MARGIN, MARKERS_UP_TO, MAX_POINTS, PANELS_PER_ROW, epoch_rows

ABSENT = "—"  # a setting one config lacks; a row with no best run
SPLIT_NAMES = {"train": "train", "val": "validation"}
LOG_SPAN = 10.0  # a positive numeric setting whose largest value is this many times its smallest is drawn as log10


def run_labels(summaries: Sequence[RunSummary]) -> dict[str, str]:
    """A short label per run id: its method (the group's label, else the strategy), architecture and id prefix.

    The prefix is 4 characters, longer where two runs of the same method and architecture share it.

    >>> from dataclasses import replace
    >>> run = RunSummary("3f2a9c", 0.0, None, "running", "", "wine", ("quality",), "hps", "gradnorm", 0, 10,
    ...                  None, None, None, None, "cli")
    >>> run_labels([run, replace(run, id="3f2b01")])
    {'3f2a9c': 'gradnorm · hps · 3f2a', '3f2b01': 'gradnorm · hps · 3f2b'}
    >>> run_labels([run, replace(run, id="3f2a01")])["3f2a01"]
    'gradnorm · hps · 3f2a0'
    """
    bases = {run.id: f"{run.label or run.strategy} · {run.architecture}" for run in summaries}
    labels = {}
    for run_id, base in bases.items():
        twins = [other for other, other_base in bases.items() if other != run_id and other_base == base]
        length = 4
        while length < len(run_id) and any(other[:length] == run_id[:length] for other in twins):
            length += 1
        labels[run_id] = f"{base} · {run_id[:length]}"
    return labels


def overlay_curves(histories: Mapping[str, Sequence[Mapping[str, Any]]], split: Literal["train", "val"] = "val",
                   log_y: bool = False) -> go.Figure:
    """One panel per task (each its own y axis), one line per run in the same colour in every panel.

    Args:
        histories: run label -> its history entries (RESULTS.json's ``history``, or EpochEnded events).
        split: which loss to draw.
        log_y: draw the loss on a log scale.

    >>> figure = overlay_curves({"A": [{"epoch": 1, "val_loss": {"y": 1.0}}], "B": [{"epoch": 1, "val_loss": {}}]})
    >>> [(trace.name, trace.y.tolist()) for trace in figure.data]
    [('A', [1.0])]
    """
    rows = {label: epoch_rows(history) for label, history in histories.items()}
    tasks = list(dict.fromkeys(task for history in rows.values() for row in history
                               for key in ("train_loss", "val_loss") for task in (row.get(key) or {})))
    colours = method_colours(list(rows))
    n_rows, columns = _grid(len(tasks))
    figure = make_subplots(rows=n_rows, cols=columns, subplot_titles=tasks or None, horizontal_spacing=0.08,
                           vertical_spacing=0.35 / n_rows)
    longest = max((len(history) for history in rows.values()), default=0)
    in_legend: set[str] = set()
    for index, task in enumerate(tasks):
        place = {"row": index // columns + 1, "col": index % columns + 1}
        drawn = False
        for label, history in rows.items():
            points = [(row["epoch"], value) for row in history
                      if (value := (row.get(f"{split}_loss") or {}).get(task)) is not None]
            if points:
                x, y = _thinned(points)
                figure.add_trace(go.Scatter(x=x, y=y, mode="lines+markers" if longest <= MARKERS_UP_TO else "lines",
                                            name=label, legendgroup=label, showlegend=label not in in_legend,
                                            line={"color": colours[label]}), **place)
                in_legend.add(label)
                drawn = True
        if not drawn:
            figure.add_annotation(text=f"no {SPLIT_NAMES[split]} loss", xref="x domain", yref="y domain", x=0.5,
                                  y=0.5, showarrow=False, font={"color": "grey"}, **place)
    figure.update_layout(title=f"Loss by epoch ({SPLIT_NAMES[split]})",
                         height=380 if n_rows == 1 else 120 + 260 * n_rows, margin=MARGIN,
                         legend={"orientation": "h", "yanchor": "top", "y": -0.18})
    figure.update_xaxes(title_text="epoch", dtick=1 if longest <= EVERY_TICK_UP_TO else None)
    figure.update_yaxes(type="log" if log_y else "linear")
    if not tasks:
        figure.add_annotation(text="No losses recorded yet in the chosen runs.", x=0.5, y=0.5, xref="paper",
                              yref="paper", showarrow=False, font={"size": 14, "color": "grey"})
    return figure


def _grid(count: int) -> tuple[int, int]:
    """(rows, columns) of small multiples: at most ``PANELS_PER_ROW`` side by side; 4 panels as 2 x 2."""
    columns = 2 if count == 4 else max(min(count, PANELS_PER_ROW), 1)
    return math.ceil(max(count, 1) / columns), columns


def _thinned(points: Sequence[tuple[float, float]]) -> tuple[np.ndarray, np.ndarray]:
    """(epochs, losses) as arrays, at most ``MAX_POINTS`` evenly spaced, the first and the last among them."""
    x, y = (np.asarray(values, dtype=float) for values in zip(*points, strict=True))
    if len(x) > MAX_POINTS:
        keep = np.unique(np.linspace(0, len(x) - 1, MAX_POINTS).round().astype(int))
        x, y = x[keep], y[keep]
    return x, y


def metric_comparison(runs: Mapping[str, Mapping[str, Mapping[str, float | None]]]) -> pd.DataFrame:
    """Rows: ``task.metric``; columns: run labels, then ``best``, the run with the best value in the row.

    Lower is better for losses and errors (mse, rmse, mae, ``*loss``), higher for r2 and the classification
    metrics; ``best`` is "—" where no run has a value or the metric's direction is unknown. Ties: the first run.

    >>> table = metric_comparison({"A": {"y": {"mse": 2.0, "r2": 0.5}}, "B": {"y": {"mse": 1.0, "r2": None}}})
    >>> table.to_dict(orient="index")
    {'y.mse': {'A': 2.0, 'B': 1.0, 'best': 'B'}, 'y.r2': {'A': 0.5, 'B': nan, 'best': 'A'}}
    """
    names = list(dict.fromkeys(f"{task}.{metric}" for metrics in runs.values()
                               for task, values in metrics.items() for metric in values))
    table = pd.DataFrame({label: [_value(metrics, name) for name in names] for label, metrics in runs.items()},
                         index=pd.Index(names, name="metric"), dtype=float)
    table["best"] = [_best(table.loc[name, list(runs)], name) for name in names]
    return table


def _value(metrics: Mapping[str, Mapping[str, float | None]], name: str) -> float:
    task, metric = name.rsplit(".", 1)
    value = (metrics.get(task) or {}).get(metric)
    return math.nan if value is None else float(value)


def _best(values: pd.Series, name: str) -> str:
    metric = name.rsplit(".", 1)[-1]
    higher = HIGHER_IS_BETTER.get(metric, False if metric.endswith("loss") else None)
    kept = values.dropna()
    if higher is None or kept.empty:
        return ABSENT
    return str(kept.idxmax() if higher else kept.idxmin())


def flatten_config(config: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Dotted keys to plain values: nested sections and lists of sections (``tasks.0.loss``) are opened, a list
    of plain values becomes one text (``model.hidden`` -> "64, 64"), an empty section gives no key.

    >>> flatten_config({"model": {"hidden": [64, 64]}, "tasks": [{"loss": "mse"}], "data": {"params": {}}})
    {'model.hidden': '64, 64', 'tasks.0.loss': 'mse'}
    """
    flat: dict[str, Any] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten_config(value, f"{name}."))
        elif isinstance(value, (list, tuple)) and any(isinstance(item, Mapping) for item in value):
            flat.update(flatten_config({str(index): item for index, item in enumerate(value)}, f"{name}."))
        elif isinstance(value, (list, tuple)):
            flat[name] = ", ".join(_text(item) for item in value) if value else "[]"
        else:
            flat[name] = value
    return flat


def _text(value: Any) -> str:
    """A setting as the config file would spell it: true, false, none, 0.003."""
    if isinstance(value, bool):
        return str(value).lower()
    return "none" if value is None else str(value)


def _same(a: Any, b: Any) -> bool:
    """Equal values of the same kind (True is not 1 here)."""
    return a == b and isinstance(a, bool) == isinstance(b, bool)


def config_diff(a: Mapping[str, Any], b: Mapping[str, Any], names: tuple[str, str] = ("A", "B")) -> pd.DataFrame:
    """The settings where two configs differ, one row each, sorted by setting; values as text ("—": not set).

    Every cell is text so that a column of numbers and words still shows as one column.

    >>> config_diff({"train": {"lr": 0.01, "epochs": 5}}, {"train": {"lr": 0.001, "epochs": 5}})
        setting     A      B
    0  train.lr  0.01  0.001
    """
    flat_a, flat_b = flatten_config(a), flatten_config(b)
    keys = sorted(key for key in flat_a.keys() | flat_b.keys()
                  if key not in flat_a or key not in flat_b or not _same(flat_a[key], flat_b[key]))
    rows = [[key, _text(flat_a[key]) if key in flat_a else ABSENT, _text(flat_b[key]) if key in flat_b else ABSENT]
            for key in keys]
    return pd.DataFrame(rows, columns=["setting", *names], dtype=object)


def varying_settings(rows: Sequence[Mapping[str, Any]], exclude: Collection[str] = ()) -> list[str]:
    """The keys whose value is not the same in every row (missing from some counts as differing), in first-seen
    order, leaving out ``exclude``.

    >>> varying_settings([{"lr": 0.1, "epochs": 5, "m": 1}, {"lr": 0.2, "epochs": 5, "m": 2}], exclude={"m"})
    ['lr']
    """
    keys = [key for key in dict.fromkeys(key for row in rows for key in row) if key not in exclude]
    return [key for key in keys if any(key not in row or not _same(row[key], rows[0].get(key)) for row in rows)]


def hyperparameter_plot(rows: Sequence[Mapping[str, Any]], metric: str) -> go.Figure:
    """Parallel coordinates: one axis per setting that varies across the runs, the metric last, lines coloured
    by the metric.

    Numbers are numeric axes (positive ones spanning a factor ``LOG_SPAN`` or more as log10); words, booleans,
    and numbers some runs lack are categorical axes ("—": not set). Runs without the metric are left out.

    Args:
        rows: one dict per run: its flattened settings (``flatten_config``) and the metric's value under ``metric``.
        metric: the key of the metric, e.g. "quality.mse"; colours run from worst to best where its direction is known.
    """
    kept = [row for row in rows if isinstance(row.get(metric), (int, float)) and math.isfinite(row[metric])]
    figure = go.Figure()
    figure.update_layout(title=f"Settings against {metric}", height=460, margin={**MARGIN, "l": 80, "t": 90})
    if len(kept) < 2:
        figure.add_annotation(text=f"At least two finished runs with {metric} are needed to compare settings.",
                              x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False,
                              font={"size": 14, "color": "grey"})
        figure.update_xaxes(visible=False)
        figure.update_yaxes(visible=False)
        return figure
    dimensions = [_dimension(key, [row.get(key, ABSENT) for row in kept])
                  for key in varying_settings(kept, exclude={metric})]
    values = [float(row[metric]) for row in kept]
    higher = HIGHER_IS_BETTER.get(metric.rsplit(".", 1)[-1])
    figure.add_trace(go.Parcoords(
        dimensions=[*dimensions, {"label": metric, "values": values}],
        line={"color": values, "colorscale": "Viridis", "showscale": True, "reversescale": higher is False,
              "colorbar": {"title": {"text": metric}}},
    ))
    return figure


def _dimension(key: str, values: Sequence[Any]) -> dict[str, Any]:
    """One parcoords axis: numeric (log10 when it spans decades) or categorical with its names as ticks."""
    if all(isinstance(value, (int, float)) and not isinstance(value, bool) for value in values):
        low, high = min(values), max(values)
        if low > 0 and high / low >= LOG_SPAN:
            return {"label": f"log10 {key}", "values": [math.log10(value) for value in values]}
        return {"label": key, "values": list(values)}
    shown = [_text(value) if value is not ABSENT else ABSENT for value in values]
    if all(isinstance(value, bool) for value in values):
        categories = ["false", "true"]
    else:
        categories = sorted(set(shown) - {ABSENT}, key=_category_order) + ([ABSENT] if ABSENT in shown else [])
    position = {category: index for index, category in enumerate(categories)}
    return {"label": key, "values": [position[text] for text in shown], "tickvals": list(range(len(categories))),
            "ticktext": categories, "range": [0, max(len(categories) - 1, 1)]}


def _category_order(text: str) -> tuple[int, float, str]:
    """Numbers in numeric order before words in alphabetical order."""
    try:
        return 0, float(text), text
    except ValueError:
        return 1, 0.0, text
