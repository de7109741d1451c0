"""Figures of a finished run's test predictions: confusion matrix and ROC curves; which tasks are which kind."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
from sklearn.metrics import auc, confusion_matrix, roc_curve

from mtl_core.viz.training import MARGIN, PALETTE


def confusion_matrix_figure(entry: Mapping[str, Any], name: str) -> go.Figure:
    """Counts of test rows by true class (rows, y) and predicted class (columns, x), annotated.

    Args:
        entry: one classification task's entry of the results dict's ``predictions``:
            ``true`` and ``pred`` as class indices, ``classes`` the labels of those indices.
        name: the task's name, for the title.

    >>> figure = confusion_matrix_figure({"true": [0, 1, 1], "pred": [0, 0, 1], "classes": ["no", "yes"]}, "good")
    >>> figure.data[0].z.tolist(), list(figure.data[0].x), list(figure.data[0].y)
    ([[1, 0], [1, 1]], ['no', 'yes'], ['no', 'yes'])
    """
    true, pred = [int(value) for value in entry.get("true", [])], [int(value) for value in entry.get("pred", [])]
    labels = _class_labels(entry, [*true, *pred])
    indices = list(range(len(labels)))
    counts = (confusion_matrix(true, pred, labels=indices) if true
              else np.zeros((len(labels), len(labels)), dtype=int))
    figure = go.Figure(go.Heatmap(
        z=counts, x=labels, y=labels, text=counts, texttemplate="%{text}", colorscale="Blues", showscale=False,
        hovertemplate="true %{y}<br>predicted %{x}<br>%{z} rows<extra></extra>",
    ))
    figure.update_layout(
        title=f"{name}: confusion matrix (test split, {len(true)} rows)", height=380, margin=MARGIN,
        xaxis={"title": f"predicted {name}", "type": "category"},
        yaxis={"title": f"true {name}", "type": "category", "autorange": "reversed"},
    )
    return figure


def _class_labels(entry: Mapping[str, Any], indices: Sequence[int]) -> list[str]:
    """The labels of class indices 0..K-1: ``classes`` when given, else the indices themselves."""
    classes = [str(label) for label in entry.get("classes") or []]
    count = max([len(classes), *(index + 1 for index in indices)], default=0)
    return classes + [str(index) for index in range(len(classes), count)]


def roc_figure(entry: Mapping[str, Any], name: str) -> go.Figure:
    """ROC curves of one classification task's test rows, with the AUC in each legend label.

    Binary tasks get one curve from ``proba`` ([N], the probability of class 1); multiclass tasks
    one one-vs-rest curve per class from ``proba`` ([N, K]). A class that is absent from the test
    rows (or is every row) has no curve; a note under the title names it. The dotted diagonal is chance.

    The legend names the task (binary) or each class against the rest (multiclass), and sits inside the
    plot's lower right, where a useful ROC curve never runs, clear of the axis titles.

    >>> figure = roc_figure({"true": [0, 1, 1, 0], "proba": [0.1, 0.8, 0.6, 0.7], "classes": [0, 1]}, "good")
    >>> [trace.name for trace in figure.data]
    ['good (AUC 0.75)', 'chance']
    """
    true = np.asarray(entry.get("true", []), dtype=int)
    proba = np.asarray(entry.get("proba", []), dtype=float)
    labels = _class_labels(entry, true.tolist())
    columns = [(1, proba)] if proba.ndim == 1 else [(k, proba[:, k]) for k in range(proba.shape[1])]
    figure, skipped = go.Figure(), []
    for index, score in columns:
        label = labels[index] if index < len(labels) else str(index)
        curve = _roc_trace(true, score, index, name if proba.ndim == 1 else f"{label} vs rest")
        if curve is None:
            skipped.append(name if proba.ndim == 1 else label)
        else:
            figure.add_trace(curve)
    figure.add_trace(go.Scatter(x=[0.0, 1.0], y=[0.0, 1.0], mode="lines", name="chance", hoverinfo="skip",
                                line={"color": "grey", "dash": "dot"}))
    kind = ", one vs rest" if proba.ndim == 2 else ""
    note = (f"<br><sup>no curve for {', '.join(skipped)}: the test rows need examples with and without "
            f"the class</sup>" if skipped else "")
    figure.update_layout(
        title=f"{name}: ROC (test split{kind}){note}", height=400, margin={**MARGIN, "t": 70},
        xaxis={"title": "false positive rate", "range": [0, 1]},
        yaxis={"title": "true positive rate", "range": [0, 1.02]},
        legend={"xanchor": "right", "x": 0.99, "yanchor": "bottom", "y": 0.01, "bgcolor": "rgba(255,255,255,0.85)",
                "bordercolor": "rgba(0,0,0,0.15)", "borderwidth": 1},
    )
    return figure


def _roc_trace(true: np.ndarray, score: np.ndarray, index: int, label: str) -> go.Scatter | None:
    """The curve of class ``index`` against the rest; None when the rows hold only one side."""
    finite = np.isfinite(score)  # an overflowed output has no rank
    positive = true[finite] == index
    if positive.all() or not positive.any():
        return None
    false_rate, true_rate, _ = roc_curve(positive, score[finite])
    return go.Scatter(x=false_rate, y=true_rate, mode="lines", name=f"{label} (AUC {auc(false_rate, true_rate):.3g})",
                      line={"color": PALETTE[index % len(PALETTE)]})


def classification_tasks(results: Mapping[str, Any]) -> list[str]:
    """Names of the binary and multiclass tasks of a results dict, in config order.

    >>> tasks = [{"name": "q", "kind": "regression"}, {"name": "g", "kind": "binary"}]
    >>> classification_tasks({"config": {"tasks": tasks}})
    ['g']
    """
    return [task["name"] for task in _tasks(results) if task.get("kind", "regression") != "regression"]


def regression_tasks(results: Mapping[str, Any]) -> list[str]:
    """Names of the regression tasks of a results dict, in config order.

    >>> regression_tasks({"config": {"tasks": [{"name": "q", "kind": "regression"}, {"name": "g", "kind": "binary"}]}})
    ['q']
    """
    return [task["name"] for task in _tasks(results) if task.get("kind", "regression") == "regression"]


def _tasks(results: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    tasks = (results.get("config") or {}).get("tasks") or []
    return [task for task in tasks if isinstance(task, Mapping) and "name" in task]
