"""Figures of a run's gradient diagnostics (``RESULTS.json``'s ``diagnostics``): cosine and affinity heat maps, curves
of conflict, norms, angles and implied weights by epoch, gate heat maps, cross-stitch and soft-sharing traces.

Pure functions of the records (plain values); the Insight page only draws them. Task names are used as given: the
page passes every figure through ``safe_figure``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from mtl_core.insight.reading import task_pairs
from mtl_core.viz.training import MARGIN, PALETTE

Record = Mapping[str, Any]
DIVERGING = "RdBu"  # red: negative (conflict, harm), blue: positive (agreement, help)


def cosine_heatmap(record: Record, tasks: Sequence[str]) -> go.Figure:
    """The tasks' mean pairwise cosine at one epoch, [T, T] (1 on the diagonal; blank for a pair never measured).

    >>> figure = cosine_heatmap({"epoch": 2, "cosine": {"a|b": -0.5}}, ["a", "b"])
    >>> [list(row) for row in figure.data[0].z]
    [[1.0, -0.5], [-0.5, 1.0]]
    """
    cosines = record.get("cosine") or {}

    def value(a: str, b: str) -> float | None:
        if a == b:
            return 1.0
        found = cosines.get(f"{a}|{b}", cosines.get(f"{b}|{a}"))
        return None if found is None else float(found)

    z = tuple(tuple(value(a, b) for b in tasks) for a in tasks)
    figure = _heatmap(z, list(tasks), list(tasks), "cosine", "%{y} · %{x}: cosine %{z:.2f}")
    figure.update_layout(title=f"Cosine of the task gradients on the shared layers, epoch {record.get('epoch')}")
    return figure


def affinity_heatmap(affinity: Mapping[str, Mapping[str, float]], tasks: Sequence[str]) -> go.Figure:
    """Z_{i→j} (TAG lookahead affinity): row i is the task stepped on, column j the task whose loss is read."""
    z = tuple(tuple(_maybe(affinity.get(i, {}).get(j)) for j in tasks) for i in tasks)
    scale = max([abs(v) for row in z for v in row if v is not None] or [1.0])
    figure = _heatmap(z, list(tasks), list(tasks), "affinity", "a step on %{y} changes %{x}'s loss: Z = %{z:.3g}",
                      limit=scale, decimals=".2g")
    figure.update_layout(title="Lookahead affinity: a step on the row's task, the column's loss (run mean)",
                         xaxis_title="loss read", yaxis_title="step taken on")
    return figure


def gate_heatmap(record: Record, level: int = 0) -> go.Figure:
    """Mean gate weight of each task (rows) on each expert (columns) at one epoch, for one level of gates."""
    gates: Mapping[str, Mapping[str, float]] = ((record.get("model") or {}).get("gates") or [{}])[level]
    tasks = list(gates)
    experts = list(dict.fromkeys(expert for weights in gates.values() for expert in weights))
    z = tuple(tuple(_maybe(gates[task].get(expert)) for expert in experts) for task in tasks)
    figure = go.Figure(go.Heatmap(z=z, x=experts, y=tasks, zmin=0.0, zmax=1.0, colorscale="Blues",
                                  text=[[f"{v:.0%}" if v is not None else "" for v in row] for row in z],
                                  texttemplate="%{text}", hovertemplate="%{y} → %{x}: %{z:.1%}<extra></extra>",
                                  colorbar={"title": "weight"}))
    suffix = f", level {level + 1}" if len(((record.get("model") or {}).get("gates") or [])) > 1 else ""
    figure.update_layout(title=f"Mean gate weights, epoch {record.get('epoch')}{suffix}", margin=MARGIN,
                         height=140 + 40 * len(tasks), xaxis={"type": "category", "title": "expert"},
                         yaxis={"type": "category", "autorange": "reversed"})
    return figure


def conflict_curves(records: Sequence[Record], tasks: Sequence[str]) -> go.Figure:
    """Per pair, by epoch: the mean cosine (left) and the share of measured steps with a negative cosine (right)."""
    figure = make_subplots(rows=1, cols=2, subplot_titles=("mean cosine", "share of steps in conflict"))
    for index, (a, b) in enumerate(task_pairs(tasks)):
        colour, name = PALETTE[index % len(PALETTE)], f"{a} · {b}"
        for column, field in ((1, "cosine"), (2, "negative_fraction")):
            epochs, values = _series(records, field, f"{a}|{b}")
            figure.add_trace(go.Scatter(x=epochs, y=values, name=name, legendgroup=name, showlegend=column == 1,
                                        line={"color": colour}, mode="lines+markers" if len(epochs) < 50 else "lines"),
                             row=1, col=column)
    figure.add_hline(y=0.0, line={"dash": "dot", "color": "grey"}, row=1, col=1)
    figure.update_yaxes(range=[-1.05, 1.05], row=1, col=1)
    figure.update_yaxes(range=[-0.05, 1.05], tickformat=".0%", row=1, col=2)
    figure.update_xaxes(title_text="epoch")
    figure.update_layout(title="Do the tasks' gradients agree?", margin=MARGIN, height=360)
    return epoch_axis(figure, records)


def task_curves(records: Sequence[Record], tasks: Sequence[str], field: str, title: str, axis: str,
                log_y: bool = False) -> go.Figure:
    """One line per task of ``record[field][task]`` by epoch (norms, angles, implied weights)."""
    figure = go.Figure()
    for index, task in enumerate(tasks):
        epochs, values = _series(records, field, task)
        if epochs:
            figure.add_trace(go.Scatter(x=epochs, y=values, name=task, line={"color": PALETTE[index % len(PALETTE)]},
                                        mode="lines+markers" if len(epochs) < 50 else "lines"))
    if field == "angles":
        figure.add_hline(y=90.0, line={"dash": "dot", "color": "grey"},
                         annotation_text="90°: the update no longer lowers this loss")
    figure.update_layout(title=title, margin=MARGIN, height=320, xaxis_title="epoch", yaxis_title=axis,
                         yaxis_type="log" if log_y else None)
    return epoch_axis(figure, records)


def cross_stitch_curves(records: Sequence[Record], tasks: Sequence[str]) -> go.Figure:
    """α_ts of every cross-stitch unit by epoch: solid lines keep a column's own activations (t = s), dotted mix."""
    figure = go.Figure()
    stages = len(((records[-1].get("model") or {}).get("cross_stitch") or [])) if records else 0
    for stage in range(stages):
        for index, target in enumerate(tasks):
            for source in tasks:
                epochs, values = [], []
                for record in records:
                    units = (record.get("model") or {}).get("cross_stitch") or []
                    if stage < len(units) and source in units[stage].get(target, {}):
                        epochs.append(record["epoch"])
                        values.append(units[stage][target][source])
                figure.add_trace(go.Scatter(x=epochs, y=values, name=f"stage {stage + 1}: {target} ← {source}",
                                            line={"color": PALETTE[index % len(PALETTE)],
                                                  "dash": "solid" if source == target else "dot"}))
    figure.update_layout(title="Cross-stitch units α (how much each column reads of each)", margin=MARGIN,
                         height=340, xaxis_title="epoch", yaxis_title="α")
    return epoch_axis(figure, records)


def distance_curves(records: Sequence[Record], tasks: Sequence[str]) -> go.Figure:
    """Soft sharing: each pair's trunk distance relative to the trunks' size, by epoch."""
    figure = go.Figure()
    for index, (a, b) in enumerate(task_pairs(tasks)):
        epochs = [record["epoch"] for record in records
                  if f"{a}|{b}" in ((record.get("model") or {}).get("relative_distances") or {})]
        values = [record["model"]["relative_distances"][f"{a}|{b}"] for record in records if record["epoch"] in epochs]
        figure.add_trace(go.Scatter(x=epochs, y=values, name=f"{a} · {b}", line={"color": PALETTE[index % len(PALETTE)]}))
    figure.update_layout(title="Distance between the tasks' trunks (relative to their size)", margin=MARGIN,
                         height=320, xaxis_title="epoch", yaxis_title="‖θa − θb‖ / mean ‖θ‖")
    return epoch_axis(figure, records)


def epoch_axis(figure: go.Figure, records: Sequence[Record]) -> go.Figure:
    """Whole epochs on the x axes: a tick per epoch for a short run (no 1.5 between epochs 1 and 2)."""
    figure.update_xaxes(title_text="epoch", dtick=1 if len(records) <= 12 else None, tickformat="d")
    return figure


def _series(records: Sequence[Record], field: str, key: str) -> tuple[list[int], list[float]]:
    pairs = [(record["epoch"], float(value)) for record in records
             if (value := (record.get(field) or {}).get(key)) is not None]
    return [epoch for epoch, _ in pairs], [value for _, value in pairs]


def _maybe(value: Any) -> float | None:
    return None if value is None else float(value)


def _heatmap(z: tuple[tuple[float | None, ...], ...], x: list[str], y: list[str], title: str, hover: str,
             limit: float = 1.0, decimals: str = ".2f") -> go.Figure:
    text = [[format(v, decimals) if v is not None else "" for v in row] for row in z]
    figure = go.Figure(go.Heatmap(z=z, x=x, y=y, zmin=-limit, zmax=limit, zmid=0.0, colorscale=DIVERGING,
                                  text=text, texttemplate="%{text}", hovertemplate=hover + "<extra></extra>",
                                  colorbar={"title": title}))
    figure.update_layout(margin=MARGIN, height=160 + 50 * len(y), xaxis={"type": "category"},
                         yaxis={"type": "category", "autorange": "reversed"})
    return figure
