"""A sweep's trials as a table and as parallel coordinates: pure functions of the sweep's summary rows (no PyTorch)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd


def trials_frame(rows: Sequence[Mapping[str, Any]], keys: Sequence[str], metric: str) -> pd.DataFrame:
    """One row per trial: #, each swept key, seed, status, the metric, attempts, reason.

    >>> trials_frame([{"index": 0, "params": {"train.lr": 0.1}, "seed": 0, "status": "completed", "value": 2.5,
    ...                "attempts": 1, "reason": ""}], ["train.lr"], "val.y.mse").columns.tolist()
    ['#', 'train.lr', 'seed', 'status', 'val.y.mse', 'attempts', 'reason']
    """
    records = [{"#": row["index"], **{key: _cell(row["params"].get(key)) for key in keys}, "seed": row["seed"],
                "status": row["status"], metric: row["value"], "attempts": row["attempts"], "reason": row["reason"]}
               for row in rows]
    return pd.DataFrame(records, columns=["#", *keys, "seed", "status", metric, "attempts", "reason"])


def _cell(value: Any) -> Any:
    return value if isinstance(value, int | float | str) or value is None else json.dumps(value)


def parallel_figure(frame: pd.DataFrame, keys: Sequence[str], metric: str, mode: str) -> Any:
    """Parallel coordinates of the swept keys and seed against the metric (trials with a value only), coloured by
    the metric, best end bright. Keys whose values are not numbers get one tick per value."""
    import plotly.express as px

    shown = frame.dropna(subset=[metric])
    dimensions = [*keys, "seed", metric]
    numeric = pd.DataFrame({name: _codes(shown[name])[0] for name in dimensions})
    scale = "Viridis_r" if mode == "min" else "Viridis"
    figure = px.parallel_coordinates(numeric, dimensions=dimensions, color=metric, color_continuous_scale=scale,
                                     title=f"Swept settings against {metric} ({mode})")
    for dimension, name in zip(figure.data[0].dimensions, dimensions, strict=True):
        _, ticks = _codes(shown[name])
        if ticks:
            dimension.tickvals, dimension.ticktext = list(range(len(ticks))), ticks
    return figure


def _codes(column: pd.Series) -> tuple[pd.Series, list[str]]:
    """The column as numbers, and the tick texts when its values had to be coded (text, lists)."""
    if pd.api.types.is_numeric_dtype(column):
        return column.astype(float), []
    labels = sorted({str(value) for value in column})
    return column.map(lambda value: labels.index(str(value))).astype(float), labels


def best_style(frame: pd.DataFrame, best: int | None) -> Any:
    """The frame styled with the best trial's row in bold on a light green."""
    def highlight(row: pd.Series) -> list[str]:
        return ["font-weight: bold; background-color: #e6f4ea" if row["#"] == best else ""] * len(row)
    return frame.style.apply(highlight, axis=1)
