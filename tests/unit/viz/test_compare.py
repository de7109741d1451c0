"""Comparison figures hold the numbers of the summaries they are given (hand-made, no training)."""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from typing import Any

from mtl_core import viz
from mtl_core.viz.compare import PANEL_PX, label_box, overlap

QUALITY = {"stl": [0.45, 0.44, 0.47], "equal": [0.43, 0.44, 0.42], "pcgrad": [0.46, None, 0.48]}
GOOD = {"stl": [0.78, 0.79, 0.80], "equal": [0.74, 0.75, 0.73], "pcgrad": [0.75, None, 0.76]}


def described(values: Sequence[float | None]) -> dict[str, Any]:
    kept = [value for value in values if value is not None]
    return {"mean": statistics.fmean(kept), "std": statistics.stdev(kept), "values": list(values)}


def block(metric: str, higher: bool, results: Mapping[str, Sequence[float | None]]) -> dict[str, Any]:
    return {"metric": metric, "higher_is_better": higher,
            "results": {method: described(values) for method, values in results.items()}}


SUMMARY = {"seeds": [0, 1, 2], "methods": ["stl", "equal", "pcgrad"],
           "tasks": {"quality": block("mse", False, QUALITY), "good": block("accuracy", True, GOOD)}}


def test_the_table_has_a_row_per_method_and_mean_std_text_per_task() -> None:
    table = viz.compare_table(SUMMARY)
    assert list(table.index) == ["stl", "equal", "pcgrad"] and list(table.columns) == ["quality", "good"]
    assert table.loc["stl", "good"] == "0.790 ± 0.010" and table.loc["equal", "quality"] == "0.430 ± 0.010"
    assert table.loc["pcgrad", "good"] == "0.755 ± 0.007"  # two seeds: the missing one is left out


def test_the_best_method_follows_each_metrics_direction() -> None:
    assert viz.best_methods(SUMMARY) == {"quality": "equal", "good": "stl"}


def test_the_bars_show_means_with_std_error_bars_and_every_seed() -> None:
    figure = viz.compare_bars(SUMMARY)
    bars = {trace.name: trace for trace in figure.data if trace.type == "bar"}
    assert list(bars) == ["quality", "good"] and list(bars["good"].x) == ["stl", "equal", "pcgrad"]
    assert list(bars["good"].y) == [described(v)["mean"] for v in GOOD.values()]
    assert list(bars["good"].error_y.array) == [described(v)["std"] for v in GOOD.values()]
    points = next(trace for trace in figure.data if trace.name == "good: seeds")
    assert list(points.x) == ["stl"] * 3 + ["equal"] * 3 + ["pcgrad"] * 2
    assert list(points.y) == [0.78, 0.79, 0.80, 0.74, 0.75, 0.73, 0.75, 0.76]
    assert len(figure.layout.annotations) == 2  # one titled panel per task


def point(label: str, weights: list[float], means: Sequence[float], flag: bool) -> dict[str, Any]:
    return {"label": label, "weights": weights, "non_dominated": flag,
            "tasks": {task: {"mean": mean, "std": 0.01, "values": [mean]} for task, mean in zip(TASKS, means)}}


TASKS = ["quality", "good", "band"]


def front(n_tasks: int) -> dict[str, Any]:
    tasks = {task: {"metric": metric, "higher_is_better": up}
             for task, metric, up in zip(TASKS, ["mse", "accuracy", "accuracy"], [False, True, True])}
    reference = {"tasks": {task: {"mean": 0.5, "std": 0.02, "values": [0.5]} for task in TASKS}, "dominated_by": []}
    return {"seeds": [0], "tasks": dict(list(tasks.items())[:n_tasks]),
            "points": [point("0.5/1.5", [0.5, 1.5], [0.44, 0.75, 0.6], True),
                       point("1/1", [1.0, 1.0], [0.43, 0.74, 0.6], True),
                       point("1.5/0.5", [1.5, 0.5], [0.45, 0.73, 0.6], False)],
            "strategies": {"gradnorm": {**reference, "dominated_by": ["1/1"]}}, "stl": reference}


def test_the_pareto_plot_draws_the_sweep_the_front_and_the_references_with_error_bars() -> None:
    figure = viz.pareto_plot(front(2))
    traces = {trace.name: trace for trace in figure.data}
    assert list(traces) == ["static weights", "non-dominated", "gradnorm", "single-task (stl)"]
    sweep = traces["static weights"]
    assert list(sweep.x) == [0.44, 0.43, 0.45] and list(sweep.y) == [0.75, 0.74, 0.73]
    assert list(traces["static weights"].text) == ["0.5/1.5", "1/1", "1.5/0.5"]
    assert list(traces["non-dominated"].x) == [0.44, 0.43]
    assert list(traces["gradnorm"].error_x.array) == [0.02] and list(traces["gradnorm"].error_y.array) == [0.02]
    assert figure.layout.xaxis.title.text == "quality mse (lower is better)"
    assert figure.layout.yaxis.title.text == "good accuracy (higher is better)"


def test_three_tasks_give_one_panel_per_pair() -> None:
    figure = viz.pareto_plot(front(3))
    assert [annotation.text for annotation in figure.layout.annotations] == [
        "quality vs good", "quality vs band", "good vs band"]
    assert len(figure.data) == 3 * 4 and sum(bool(trace.showlegend) for trace in figure.data) == 4
    assert figure.layout.xaxis3.title.text == "good accuracy (higher is better)"


def test_each_strategy_has_one_colour_in_the_bars_and_on_the_pareto_plot() -> None:
    summary = {**SUMMARY, "methods": ["stl", "gradnorm"],
               "tasks": {task: {**value, "results": {"stl": value["results"]["stl"],
                                                     "gradnorm": value["results"]["equal"]}}
                         for task, value in SUMMARY["tasks"].items()}}
    bars = next(trace for trace in viz.compare_bars(summary).data if trace.type == "bar")
    bar_colours = dict(zip(bars.x, bars.marker.color))
    markers = {trace.name: trace.marker.color for trace in viz.pareto_plot(front(2)).data}
    assert bar_colours["gradnorm"] == markers["gradnorm"] and bar_colours["stl"] == markers["single-task (stl)"]
    assert bar_colours["gradnorm"] != bar_colours["stl"]


def clustered_front() -> dict[str, Any]:
    """Five non-dominated sweep points within a few thousandths of each other, as on the wine data."""
    means = [(0.431, 0.741), (0.432, 0.743), (0.433, 0.744), (0.434, 0.746), (0.436, 0.747)]
    points = [point(label, [0.0, 0.0], [x, y, 0.6], True)
              for label, (x, y) in zip(["0.333/1.67", "0.667/1.33", "1/1", "1.33/0.667", "1.67/0.333"], means)]
    return {**front(2), "points": points}


def label_boxes(trace: Any, extent: list[tuple[float, float]]) -> list[tuple[float, float, float, float]]:
    """The pixel boxes of a trace's drawn labels in a panel of PANEL_PX spanning ``extent``."""
    (x_low, x_high), (y_low, y_high) = [(min(p[i] for p in extent), max(p[i] for p in extent)) for i in (0, 1)]
    width, height = PANEL_PX
    return [label_box(0.05 * width + 0.9 * width * (x - x_low) / (x_high - x_low),
                      0.05 * height + 0.9 * height * (y - y_low) / (y_high - y_low), text, position)
            for x, y, text, position in zip(trace.x, trace.y, trace.text, trace.textposition) if text]


def test_pareto_labels_sit_on_the_front_only_and_never_overlap() -> None:
    data = clustered_front()
    figure = viz.pareto_plot(data)
    traces = {trace.name: trace for trace in figure.data}
    assert "text" not in traces["static weights"].mode  # the sweep's weights are in its hover text
    assert "static weights %{text}" in traces["static weights"].hovertemplate
    extent = [(p["tasks"]["quality"]["mean"], p["tasks"]["good"]["mean"]) for p in data["points"]] + [(0.5, 0.5)]
    boxes = label_boxes(traces["non-dominated"], extent)
    assert len(boxes) >= 2 and not any(overlap(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1:])


def test_pareto_labels_far_apart_are_all_drawn() -> None:
    traces = {trace.name: trace for trace in viz.pareto_plot(front(2)).data}
    assert list(traces["non-dominated"].text) == ["0.5/1.5", "1/1"]
