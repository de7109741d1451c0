"""Altair figures of a table before training: each column's distribution, and the targets against an input.

Pure functions of a DataFrame. Each chart carries its own small data (histogram counts, or a sample
of rows) under fixed field names, so any column name (dots, brackets, spaces) draws, and a large
table never embeds all its rows in the page.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import altair as alt
import numpy as np
import pandas as pd

BINS = 20  # bars of a numeric column's histogram, at most
TOP_VALUES = 20  # bars of a text column's counts: its most frequent values
MAX_POINTS = 2000  # rows a scatter draws (a fixed sample beyond that)
PANEL = {"width": 180, "height": 120}
SPLIT_COLOURS = alt.Scale(domain=["train", "val", "test"], range=["#4c78a8", "#f58518", "#54a24b"])


def column_counts(column: pd.Series) -> pd.DataFrame:
    """A column's distribution as bars: numeric → ``start``, ``end``, ``count`` per bin; else ``value``, ``count``.

    >>> int(column_counts(pd.Series([1.0, 2.0, 2.0, 3.0]))["count"].sum())
    4
    >>> column_counts(pd.Series(["a", "b", "a"])).to_dict("list")
    {'value': ['a', 'b'], 'count': [2, 1]}
    """
    values = column.dropna()
    if _numeric(values):
        numbers = values.to_numpy(dtype=float)
        numbers = numbers[np.isfinite(numbers)]
        counts, edges = np.histogram(numbers, bins=max(1, min(BINS, len(np.unique(numbers)))))
        return pd.DataFrame({"start": edges[:-1], "end": edges[1:], "count": counts})
    top = values.astype(str).value_counts().head(TOP_VALUES)
    return pd.DataFrame({"value": top.index.tolist(), "count": top.to_numpy()})


def column_histogram(column: pd.Series, title: str) -> alt.Chart:
    """One column's histogram (numbers) or bar chart of its most frequent values (text, booleans)."""
    counts = column_counts(column)
    chart = alt.Chart(counts, title=title).mark_bar().properties(**PANEL)
    count = alt.Y("count:Q", title="rows")
    if "start" in counts:
        return chart.encode(x=alt.X("start:Q", title=None, bin="binned"), x2="end:Q", y=count,
                            tooltip=["start:Q", "end:Q", "count:Q"])
    return chart.encode(x=alt.X("value:N", title=None, sort="-y"), y=count, tooltip=["value:N", "count:Q"])


def distributions(table: pd.DataFrame, columns: Sequence[str] | None = None, per_row: int = 3) -> alt.ConcatChart:
    """Small multiples: one histogram per column (all columns, or ``columns`` in that order).

    >>> len(distributions(pd.DataFrame({"a": [1.0, 2.5], "b": ["x", "y"]})).concat)
    2
    """
    names = list(table.columns) if columns is None else list(columns)
    return alt.concat(*(column_histogram(table[name], str(name)) for name in names), columns=per_row)


def target_scatter(table: pd.DataFrame, input_column: str, targets: Mapping[str, str],
                   split: Sequence[str] | None = None, per_row: int = 3) -> alt.ConcatChart:
    """One scatter per task: the input column (x) against the task's target column (y).

    Args:
        targets: task name → the column it predicts.
        split: each table row's split (``train``, ``val``, ``test``); points are coloured by it when given.
    """
    points = pd.DataFrame({"x": table[input_column].to_numpy()}, index=table.index)
    if split is not None:
        points["split"] = list(split)
    charts = []
    for task, column in targets.items():
        shown = points.assign(y=table[column].to_numpy()).dropna(subset=["x", "y"])
        if len(shown) > MAX_POINTS:
            shown = shown.sample(MAX_POINTS, random_state=0).sort_index()
        charts.append(_scatter(shown.reset_index(drop=True), f"{task}: {column} against {input_column}",
                               input_column, str(column)))
    return alt.concat(*charts, columns=per_row)


def _scatter(points: pd.DataFrame, title: str, x_title: str, y_title: str) -> alt.Chart:
    zero = alt.Scale(zero=False)  # measurements such as a weight sit far from zero
    x = alt.X("x:Q", title=x_title, scale=zero) if _numeric(points["x"]) else alt.X("x:N", title=x_title)
    y = alt.Y("y:Q", title=y_title, scale=zero) if _numeric(points["y"]) else alt.Y("y:N", title=y_title)
    chart = alt.Chart(points, title=title).mark_circle(size=30, opacity=0.7).encode(x=x, y=y).properties(**PANEL)
    if "split" in points:
        return chart.encode(color=alt.Color("split:N", scale=SPLIT_COLOURS, title="split"),
                            tooltip=["x", "y", "split:N"])
    return chart.encode(tooltip=["x", "y"])


def _numeric(values: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
