"""The toy race's figure read as data: contours, the Pareto set, one colour per method, frames and a slider."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
import pytest

from mtl_core.insight.toy import landscape, race
from mtl_core.viz.toy import MAX_FRAMES, toy_race_figure


@pytest.fixture(scope="module")
def shown() -> dict[str, Any]:
    result = race(["equal", "cagrad"], starts=[(-8.5, 7.5), (9.0, 9.0)], steps=100, lr=1e-2, thin=101)
    return {name: [run.to_dict() for run in runs] for name, runs in result.items()}


@pytest.fixture(scope="module")
def figure(shown: dict[str, Any]) -> go.Figure:
    return toy_race_figure(landscape(size=21), shown)


def test_three_contours_of_which_the_mean_shows_first(figure: go.Figure) -> None:
    contours = [trace for trace in figure.data if trace.type == "contour"]
    assert [trace.name for trace in contours] == ["(L1 + L2) / 2", "L1", "L2"]
    assert [trace.visible for trace in contours] == [True, False, False]
    labels = [button["label"] for button in figure.layout.updatemenus[0].buttons]
    assert labels == ["(L1 + L2) / 2", "L1", "L2"]


def test_the_pareto_set_is_a_dashed_segment_with_its_middle(figure: go.Figure) -> None:
    pareto = next(trace for trace in figure.data if trace.name == "Pareto set")
    assert list(pareto.x) == [-7.0, 0.0, 7.0] and set(pareto.y) == {-8.3552} and pareto.line.dash == "dash"


def test_one_colour_per_method_with_its_paths_and_ends(figure: go.Figure, shown: dict[str, Any]) -> None:
    paths = {trace.name: trace for trace in figure.data if trace.name in shown}
    assert list(paths) == ["equal", "cagrad"] and paths["equal"].line.color != paths["cagrad"].line.color
    ends = next(trace for trace in figure.data if trace.name == "cagrad end")
    assert ends.marker.color == paths["cagrad"].line.color and ends.marker.symbol == "star"
    assert [[x, y] for x, y in zip(ends.x, ends.y, strict=True)] == [run["end"] for run in shown["cagrad"]]
    assert list(paths["equal"].x).count(None) == 2  # one gap after each start's path
    starts = next(trace for trace in figure.data if trace.name == "starts")
    assert sorted(zip(starts.x, starts.y)) == [(-8.5, 7.5), (9.0, 9.0)]


def test_frames_replay_the_paths_up_to_each_step(figure: go.Figure, shown: dict[str, Any]) -> None:
    assert 2 <= len(figure.frames) <= MAX_FRAMES and figure.frames[-1].name == "100"
    slider = figure.layout.sliders[0]
    assert [step["label"] for step in slider.steps] == [f"{int(frame.name):,}" for frame in figure.frames]
    assert [button["label"] for button in figure.layout.updatemenus[1].buttons] == ["▶ Play", "❚❚ Pause"]
    first, last = figure.frames[0], figure.frames[-1]
    dots = last.data[1]
    assert [[x, y] for x, y in zip(dots.x, dots.y, strict=True)] == [run["end"] for run in shown["equal"]]
    assert [[x, y] for x, y in zip(first.data[1].x, first.data[1].y, strict=True)] == [[-8.5, 7.5], [9.0, 9.0]]
    assert len(first.traces) == len(first.data) == 4  # each method's path and dots


def test_the_figure_passes_plotlys_validation(figure: go.Figure) -> None:
    go.Figure(figure.to_plotly_json())


def test_an_empty_race_draws_the_landscape_alone() -> None:
    figure = toy_race_figure(landscape(size=5), {})
    assert [trace.name for trace in figure.data][-2:] == ["Pareto set", "starts"] and not figure.layout.sliders
