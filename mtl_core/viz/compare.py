"""Figures and tables of a comparison (``mtl_core.compare.compare``) and a weight sweep (``pareto``).

Pure functions of the JSON-ready dicts those return (or read back from ``--out`` files).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
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
    colours = [PALETTE[index % len(PALETTE)] for index in range(len(methods))]
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
            marker={"color": "black", "size": 6, "opacity": 0.6},
        ), row=1, col=column)
    figure.update_layout(title=f"Test metric per method over {len(summary['seeds'])} seeds "
                               f"(bars: mean ± sample std; points: seeds)",
                         height=420, margin=MARGIN, showlegend=False, barmode="group")
    return figure


def pareto_plot(front: Mapping[str, Any]) -> go.Figure:
    """Per-task metrics against each other: the static-weight sweep (points labelled by weights, non-dominated
    ringed), each strategy and single-task training with x/y error bars (sample std). 3 tasks: one panel per pair.
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
    """The sweep, its non-dominated points, then one marker with error bars per strategy and for stl."""
    shown = [point for point in front["points"]
             if point["tasks"][x_task]["mean"] is not None and point["tasks"][y_task]["mean"] is not None]
    best = [point for point in shown if point["non_dominated"]]
    traces = [
        go.Scatter(x=[p["tasks"][x_task]["mean"] for p in shown], y=[p["tasks"][y_task]["mean"] for p in shown],
                   mode="lines+markers+text", name=SWEEP, legendgroup=SWEEP, text=[p["label"] for p in shown],
                   textposition="top center", line={"color": "grey", "dash": "dot"}, marker={"color": "grey"}),
        go.Scatter(x=[p["tasks"][x_task]["mean"] for p in best], y=[p["tasks"][y_task]["mean"] for p in best],
                   mode="markers", name=NON_DOMINATED, legendgroup=NON_DOMINATED,
                   marker={"size": 14, "color": "rgba(0,0,0,0)", "line": {"color": "black", "width": 2}}),
    ]
    references = {**front["strategies"], STL_NAME: front["stl"]}
    for index, (name, reference) in enumerate(references.items()):
        traces.append(_reference_trace(name, reference["tasks"][x_task], reference["tasks"][y_task],
                                       "black" if name == STL_NAME else PALETTE[index % len(PALETTE)]))
    return traces


def _reference_trace(name: str, x: Mapping[str, Any], y: Mapping[str, Any], colour: str) -> go.Scatter:
    return go.Scatter(
        x=[x["mean"]], y=[y["mean"]], mode="markers", name=name, legendgroup=name,
        marker={"size": 11, "color": colour, "symbol": "diamond" if name == STL_NAME else "circle"},
        error_x={"type": "data", "array": [x["std"] or 0.0], "visible": True},
        error_y={"type": "data", "array": [y["std"] or 0.0], "visible": True},
    )

