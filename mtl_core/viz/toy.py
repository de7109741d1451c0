"""The toy race of CAGrad (Liu et al., 2021, "Conflict-Averse Gradient Descent for Multi-task Learning", §5,
Figure 1) as an animated plotly figure: the landscape's contours, the Pareto set and each method's paths.

Pure functions of plain values: the landscape (``mtl_core.insight.toy.landscape``) and the race as JSON
(``{method: [{"start", "end", "trajectory", "steps"}, ...]}``, ``Trajectory.to_dict``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import plotly.graph_objects as go
from plotly.colors import qualitative

PALETTE: tuple[str, ...] = tuple(qualitative.Plotly)
VIEWS = {"mean": "(L1 + L2) / 2", "L1": "L1", "L2": "L2"}  # contour choices, the first shown first
MAX_FRAMES = 60  # animation frames: each redraws every path up to its step, so size grows with their square

Race = Mapping[str, Sequence[Mapping[str, Any]]]


def toy_race_figure(landscape: Mapping[str, Any], race: Race, view: str = "mean") -> go.Figure:
    """Contours (a menu switches L1, L2 and their mean), the Pareto set dashed, one colour per method.

    Each method's paths are drawn whole with a star at each end; Play (or the slider) replays them, a dot
    per start showing where the method is at that step. Black circles mark the shared starts.
    """
    data = [*_contours(landscape, view), _pareto(landscape), _starts(race)]
    moving = []  # indices of the traces the frames redraw: each method's path and its current dots
    for index, (method, runs) in enumerate(race.items()):
        colour = PALETTE[index % len(PALETTE)]
        moving += [len(data), len(data) + 2]
        data += [_path(method, runs, colour), _ends(method, runs, colour), _dots(method, runs, colour, None)]
    marks = _frame_marks(race)
    frames = [{"data": _frame_data(race, step), "traces": moving, "name": str(step)} for step in marks]
    layout = {
        "updatemenus": [_view_menu(view), _play_menu()], "sliders": [_slider(marks)] if marks else [],
        "xaxis": {"title": {"text": "x1"}, "range": _range(landscape["x1"])},
        "yaxis": {"title": {"text": "x2"}, "range": _range(landscape["x2"]), "scaleanchor": "x", "scaleratio": 1},
        "legend": {"title": {"text": "method"}}, "height": 620, "margin": {"t": 90},
        "title": {"text": "Each method from the same starts; dashed: the Pareto set, star: its middle"},
    }
    # built from plain dicts without plotly's per-property validation (seconds for sixty frames); the
    # tests check the figure validates
    figure = go.Figure({"data": data, "layout": layout, "frames": frames}, _validate=False)
    return figure


def _contours(landscape: Mapping[str, Any], view: str) -> list[dict[str, Any]]:
    return [dict(type="contour", x=landscape["x1"], y=landscape["x2"], z=landscape[name], name=label, visible=name == view,
                       colorscale="Viridis", ncontours=30, contours={"coloring": "lines"}, showscale=False,
                       hovertemplate=f"x1 %{{x:.3g}}, x2 %{{y:.3g}}<br>{label} %{{z:.4g}}<extra></extra>")
            for name, label in VIEWS.items()]


def _pareto(landscape: Mapping[str, Any]) -> dict[str, Any]:
    (left, right), middle = landscape["pareto"], landscape["middle"]
    return dict(type="scatter", x=[left[0], middle[0], right[0]], y=[left[1], middle[1], right[1]], name="Pareto set",
                      mode="lines+markers", line={"color": "black", "dash": "dash", "width": 3},
                      marker={"symbol": ["line-ns", "star", "line-ns"], "size": [10, 16, 10], "color": "black"},
                      hovertemplate="Pareto set<br>x1 %{x:.3g}, x2 %{y:.4g}<extra></extra>")


def _starts(race: Race) -> dict[str, Any]:
    points = {tuple(run["start"]) for runs in race.values() for run in runs}
    return dict(type="scatter", x=[point[0] for point in points], y=[point[1] for point in points], name="starts",
                      mode="markers", marker={"color": "black", "size": 12, "symbol": "circle-open", "line": {"width": 3}},
                      hovertemplate="start (%{x:g}, %{y:g})<extra></extra>")


def _path(method: str, runs: Sequence[Mapping[str, Any]], colour: str, step: int | None = None) -> dict[str, Any]:
    """Every start's path of one method as one trace (gaps between them), up to ``step`` (None: whole)."""
    xs: list[float | None] = []
    ys: list[float | None] = []
    for run in runs:
        kept = [point for point, done in zip(run["trajectory"], run["steps"], strict=True) if step is None or done <= step]
        xs += [point[0] for point in kept] + [None]
        ys += [point[1] for point in kept] + [None]
    return dict(type="scatter", x=xs, y=ys, name=method, legendgroup=method, mode="lines", line={"color": colour, "width": 2},
                      hovertemplate=f"{method}<br>x1 %{{x:.4g}}, x2 %{{y:.4g}}<extra></extra>")


def _ends(method: str, runs: Sequence[Mapping[str, Any]], colour: str) -> dict[str, Any]:
    return dict(type="scatter", x=[run["end"][0] for run in runs], y=[run["end"][1] for run in runs], name=f"{method} end",
                      legendgroup=method, showlegend=False, mode="markers",
                      marker={"color": colour, "size": 14, "symbol": "star", "line": {"color": "white", "width": 1}},
                      hovertemplate=f"{method} ends at (%{{x:.4g}}, %{{y:.4g}})<extra></extra>")


def _dots(method: str, runs: Sequence[Mapping[str, Any]], colour: str, step: int | None) -> dict[str, Any]:
    """Where each start's run of the method is at ``step`` (None: the end)."""
    here = [_position(run, step) for run in runs]
    return dict(type="scatter", x=[point[0] for point in here], y=[point[1] for point in here], name=f"{method} now",
                      legendgroup=method, showlegend=False, mode="markers",
                      marker={"color": colour, "size": 10, "line": {"color": "black", "width": 1}},
                      hovertemplate=f"{method}<br>x1 %{{x:.4g}}, x2 %{{y:.4g}}<extra></extra>")


def _position(run: Mapping[str, Any], step: int | None) -> Sequence[float]:
    if step is None:
        return list(run["end"])
    kept = [point for point, done in zip(run["trajectory"], run["steps"], strict=True) if done <= step]
    return kept[-1] if kept else list(run["start"])


def _frame_marks(race: Race) -> list[int]:
    """≤ MAX_FRAMES steps, evenly spread over the recorded ones (the last always included)."""
    recorded = sorted({step for runs in race.values() for run in runs for step in run["steps"]})
    if len(recorded) <= MAX_FRAMES:
        return recorded
    picked = {recorded[round(index * (len(recorded) - 1) / (MAX_FRAMES - 1))] for index in range(MAX_FRAMES)}
    return sorted(picked)


def _frame_data(race: Race, step: int) -> list[dict[str, Any]]:
    """The paths at ``step`` drawn only through the frames' steps (light frames), and the dots."""
    data = []
    for index, (method, runs) in enumerate(race.items()):
        colour = PALETTE[index % len(PALETTE)]
        coarse = [_coarse(run, step) for run in runs]
        data += [_path(method, coarse, colour, step), _dots(method, runs, colour, step)]
    return data


def _coarse(run: Mapping[str, Any], step: int) -> dict[str, Any]:
    """The run's points up to ``step``, about MAX_FRAMES of them."""
    pairs = [(point, done) for point, done in zip(run["trajectory"], run["steps"], strict=True) if done <= step]
    stride = max(1, len(run["steps"]) // MAX_FRAMES)
    kept = pairs[::stride] + ([pairs[-1]] if pairs and (len(pairs) - 1) % stride else [])
    return {**run, "trajectory": [point for point, _ in kept], "steps": [done for _, done in kept]}


def _view_menu(view: str) -> dict[str, Any]:
    names = list(VIEWS)
    buttons = [{"label": label, "method": "restyle",
                "args": [{"visible": [other == name for other in names]}, list(range(len(names)))]}
               for name, label in VIEWS.items()]
    return {"type": "buttons", "direction": "right", "buttons": buttons, "active": names.index(view) if view in VIEWS
            else 0, "x": 0.0, "xanchor": "left", "y": 1.12, "yanchor": "top", "showactive": True}


def _play_menu() -> dict[str, Any]:
    play = {"frame": {"duration": 80, "redraw": False}, "fromcurrent": True, "transition": {"duration": 0}}
    pause = {"frame": {"duration": 0, "redraw": False}, "mode": "immediate", "transition": {"duration": 0}}
    return {"type": "buttons", "direction": "right", "x": 1.0, "xanchor": "right", "y": 1.12, "yanchor": "top",
            "buttons": [{"label": "▶ Play", "method": "animate", "args": [None, play]},
                        {"label": "❚❚ Pause", "method": "animate", "args": [[None], pause]}]}


def _slider(marks: Sequence[int]) -> dict[str, Any]:
    steps = [{"label": f"{step:,}", "method": "animate",
              "args": [[str(step)], {"frame": {"duration": 0, "redraw": False}, "mode": "immediate"}]} for step in marks]
    return {"steps": steps, "active": len(steps) - 1, "currentvalue": {"prefix": "step "}, "pad": {"t": 40}}


def _range(axis: Sequence[float]) -> list[float]:
    return [float(axis[0]), float(axis[-1])]
