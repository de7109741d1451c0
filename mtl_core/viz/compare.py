"""Figures and tables of a comparison (``mtl_core.compare.compare``) and a weight sweep (``pareto``).

Pure functions of the JSON-ready dicts those return (or read back from ``--out`` files).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

from mtl_core.compare.text import mean_std

PALETTE: tuple[str, ...] = tuple(qualitative.Plotly)
MARGIN = {"t": 60, "b": 40, "l": 50, "r": 20}
SWEEP = "static weights"
NON_DOMINATED = "non-dominated"
STL_NAME = "single-task (stl)"
STL = "stl"
STL_COLOUR = "#3d3d3d"  # single-task training: the same dark grey in every figure
LABEL_PX = (7.5, 16.0)  # a point label's width per character and its height, in pixels (about)
PANEL_PX = (480.0, 330.0)  # the plotting area of one Pareto panel, in pixels (about)
LABEL_GAP_PX = 7.0  # between a point and its label


def method_colours(strategies: Sequence[str]) -> dict[str, str]:
    """One colour per method, the same in every figure of a comparison: the strategies take the palette in
    order, single-task training (``stl``) dark grey.

    >>> method_colours(["equal", "gradnorm"]) == {"stl": STL_COLOUR, "equal": PALETTE[0], "gradnorm": PALETTE[1]}
    True
    """
    named = [name for name in strategies if name != STL]
    return {STL: STL_COLOUR, **{name: PALETTE[index % len(PALETTE)] for index, name in enumerate(named)}}


def compare_table(summary: Mapping[str, Any]) -> pd.DataFrame:
    """Rows: methods; columns: tasks; cells: the primary test metric as 'mean ± std' text."""
    tasks = summary["tasks"]
    rows = {method: {task: mean_std(block["results"][method]) for task, block in tasks.items()}
            for method in summary["methods"]}
    table = pd.DataFrame.from_dict(rows, orient="index", columns=list(tasks))
    table.index.name = "method"
    return table


def best_methods(summary: Mapping[str, Any]) -> dict[str, str]:
    """For each task, the method with the best mean of its primary metric (direction-aware; first on ties).

    >>> best_methods({"tasks": {"quality": {"higher_is_better": False, "results": {
    ...     "stl": {"mean": 0.45}, "equal": {"mean": 0.44}, "gradnorm": {"mean": None}}}}})
    {'quality': 'equal'}
    """
    best: dict[str, str] = {}
    for task, block in summary["tasks"].items():
        sign = 1.0 if block["higher_is_better"] else -1.0
        scored = [(sign * result["mean"], method) for method, result in block["results"].items()
                  if result["mean"] is not None]
        if scored:
            top = max(score for score, _ in scored)
            best[task] = next(method for score, method in scored if score == top)
    return best


def compare_bars(summary: Mapping[str, Any]) -> go.Figure:
    """One panel per task: a bar per method (mean, sample-std error bar) and each seed's value as a point."""
    tasks = summary["tasks"]
    titles = [f"{task}: {block['metric']} ({'higher' if block['higher_is_better'] else 'lower'} is better)"
              for task, block in tasks.items()]
    figure = make_subplots(rows=1, cols=max(len(tasks), 1), subplot_titles=titles, horizontal_spacing=0.08)
    methods = list(summary["methods"])
    by_method = method_colours(methods)
    colours = [by_method[method] for method in methods]
    for column, (task, block) in enumerate(tasks.items(), start=1):
        results = [block["results"][method] for method in methods]
        figure.add_trace(go.Bar(
            x=methods, y=[result["mean"] for result in results], name=task, marker_color=colours,
            error_y={"type": "data", "array": [result["std"] or 0.0 for result in results], "visible": True},
        ), row=1, col=column)
        seeds = [(method, value) for method, result in zip(methods, results, strict=True)
                 for value in result["values"] if value is not None]
        figure.add_trace(go.Scatter(
            x=[method for method, _ in seeds], y=[value for _, value in seeds], mode="markers", name=f"{task}: seeds",
            marker={"color": "black", "size": 6, "opacity": 0.7, "line": {"color": "white", "width": 1}},
        ), row=1, col=column)
    figure.update_layout(title=f"Test metric per method over {len(summary['seeds'])} seeds "
                               f"(bars: mean ± sample std; points: seeds)",
                         height=420, margin=MARGIN, showlegend=False, barmode="group")
    return figure


def pareto_plot(front: Mapping[str, Any]) -> go.Figure:
    """Per-task metrics against each other: the static-weight sweep (weights in the hover text; the non-dominated
    points ringed and labelled where labels do not collide), each strategy (in its colour of ``compare_bars``)
    and single-task training with x/y error bars (sample std). 3 tasks: one panel per pair.
    """
    tasks = list(front["tasks"])
    pairs = list(itertools.combinations(tasks, 2))
    figure = make_subplots(rows=1, cols=max(len(pairs), 1), horizontal_spacing=0.1,
                           subplot_titles=[f"{x} vs {y}" for x, y in pairs] if len(pairs) > 1 else None)
    for column, (x_task, y_task) in enumerate(pairs, start=1):
        for trace in _pair_traces(front, x_task, y_task):
            trace.showlegend = column == 1
            figure.add_trace(trace, row=1, col=column)
        figure.update_xaxes(title_text=_axis_title(front, x_task), row=1, col=column)
        figure.update_yaxes(title_text=_axis_title(front, y_task), row=1, col=column)
    figure.update_layout(title=f"Static loss weights (sum = {len(tasks)}) against the strategies, "
                               f"mean over {len(front['seeds'])} seeds", height=480, margin=MARGIN,
                         legend={"orientation": "h", "yanchor": "top", "y": -0.18})
    return figure


def _axis_title(front: Mapping[str, Any], task: str) -> str:
    info = front["tasks"][task]
    return f"{task} {info['metric']} ({'higher' if info['higher_is_better'] else 'lower'} is better)"


def _pair_traces(front: Mapping[str, Any], x_task: str, y_task: str) -> list[go.Scatter]:
    """The sweep (its weights in the hover text), its non-dominated points labelled where the labels do not
    collide, then one marker with error bars per strategy and for stl."""
    shown = [point for point in front["points"]
             if point["tasks"][x_task]["mean"] is not None and point["tasks"][y_task]["mean"] is not None]
    best = [point for point in shown if point["non_dominated"]]
    colours = method_colours(list(front["strategies"]))
    references = {**front["strategies"], STL_NAME: front["stl"]}
    everything = [(p["tasks"][x_task]["mean"], p["tasks"][y_task]["mean"]) for p in shown] + [
        (reference["tasks"][x_task]["mean"], reference["tasks"][y_task]["mean"]) for reference in references.values()]
    best_x, best_y = [p["tasks"][x_task]["mean"] for p in best], [p["tasks"][y_task]["mean"] for p in best]
    places = label_positions(best_x, best_y, [p["label"] for p in best], everything)
    traces = [
        go.Scatter(x=[p["tasks"][x_task]["mean"] for p in shown], y=[p["tasks"][y_task]["mean"] for p in shown],
                   mode="lines+markers", name=SWEEP, legendgroup=SWEEP, text=[p["label"] for p in shown],
                   hovertemplate="static weights %{text}<br>%{x:.4g}, %{y:.4g}<extra></extra>",
                   line={"color": "#9a9a9a", "dash": "dot"}, marker={"color": "#9a9a9a"}),
        go.Scatter(x=best_x, y=best_y, mode="markers+text", name=NON_DOMINATED, legendgroup=NON_DOMINATED,
                   text=[p["label"] if place else "" for p, place in zip(best, places, strict=True)],
                   textposition=[place or "top center" for place in places], hoverinfo="skip",
                   marker={"size": 14, "color": "rgba(0,0,0,0)", "line": {"color": "black", "width": 2}}),
    ]
    for name, reference in references.items():
        traces.append(_reference_trace(name, reference["tasks"][x_task], reference["tasks"][y_task],
                                       colours[STL] if name == STL_NAME else colours[name]))
    return traces


def label_positions(x: Sequence[float], y: Sequence[float], labels: Sequence[str],
                    extent: Sequence[tuple[float | None, float | None]]) -> list[str | None]:
    """Where each point's label goes ("top center" or "bottom center"), or None where both places would
    overlap a label already placed: that point keeps its label in the hover text only.

    Sizes are estimated in pixels of a ``PANEL_PX`` panel whose axes span ``extent`` (every point drawn).

    >>> label_positions([0.0, 0.001, 1.0], [0.0, 0.0, 1.0], ["1/1", "1.2/0.8", "2/0"], [(0.0, 0.0), (1.0, 1.0)])
    ['top center', 'bottom center', 'top center']
    """
    placed: list[tuple[float, float, float, float]] = []
    positions: list[str | None] = []
    for px, py, label in zip(*_pixels(x, y, extent), labels, strict=True):
        position = None
        for candidate in ("top center", "bottom center"):
            box = label_box(px, py, label, candidate)
            if not any(overlap(box, other) for other in placed):
                position = candidate
                placed.append(box)
                break
        positions.append(position)
    return positions


def _pixels(x: Sequence[float], y: Sequence[float],
            extent: Sequence[tuple[float | None, float | None]]) -> tuple[list[float], list[float]]:
    """Data coordinates as pixels of a ``PANEL_PX`` panel spanning ``extent`` (with plotly's margin of about 5 %)."""
    spans = []
    for axis, size in enumerate(PANEL_PX):
        values = [float(value) for point in extent if (value := point[axis]) is not None]
        low, high = (min(values), max(values)) if values else (0.0, 1.0)
        spans.append((low, (high - low) or 1.0, size))
    (x_low, x_span, width), (y_low, y_span, height) = spans
    return ([0.05 * width + 0.9 * width * (value - x_low) / x_span for value in x],
            [0.05 * height + 0.9 * height * (value - y_low) / y_span for value in y])


def label_box(px: float, py: float, label: str, position: str) -> tuple[float, float, float, float]:
    """(left, bottom, right, top) in pixels, y upwards, of a label drawn above or below its point."""
    width, height = LABEL_PX[0] * len(label), LABEL_PX[1]
    bottom = py + LABEL_GAP_PX if position.startswith("top") else py - LABEL_GAP_PX - height
    return px - width / 2, bottom, px + width / 2, bottom + height


def overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    """Whether two (left, bottom, right, top) boxes intersect."""
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _reference_trace(name: str, x: Mapping[str, Any], y: Mapping[str, Any], colour: str) -> go.Scatter:
    """A method's mean on both tasks with sample-std error bars: a circle, a diamond for single-task training."""
    return go.Scatter(
        x=[x["mean"]], y=[y["mean"]], mode="markers", name=name, legendgroup=name,
        marker={"size": 11, "color": colour, "symbol": "diamond" if name == STL_NAME else "circle"},
        error_x={"type": "data", "array": [x["std"] or 0.0], "visible": True, "color": colour},
        error_y={"type": "data", "array": [y["std"] or 0.0], "visible": True, "color": colour},
    )
