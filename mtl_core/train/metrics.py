"""Test and validation metrics with scikit-learn, computed on the original scale of each target."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
from sklearn import metrics as skm
from sklearn.exceptions import UndefinedMetricWarning

from mtl_core.data import TaskInfo


def regression_metrics(true: np.ndarray, pred: np.ndarray, names: tuple[str, ...]) -> dict[str, float | None]:
    """mse, rmse, mae, r2 (r2 is None with fewer than 2 rows)."""
    values: dict[str, float | None] = {
        "mse": float(skm.mean_squared_error(true, pred)),
        "rmse": float(skm.root_mean_squared_error(true, pred)),
        "mae": float(skm.mean_absolute_error(true, pred)),
        "r2": float(skm.r2_score(true, pred)) if len(true) > 1 else None,
    }
    return {name: values[name] for name in names}


def classification_metrics(true: np.ndarray, proba: np.ndarray, n_classes: int,
                           names: tuple[str, ...]) -> dict[str, float | None]:
    """accuracy, f1, precision, recall (binary: of the positive class; multiclass: macro), auc (ovr macro).

    ``proba`` is [N] (positive class) for two classes and [N, K] otherwise. auc is None when
    the rows hold a single class, where it is undefined.
    """
    pred = (proba >= 0.5).astype(int) if proba.ndim == 1 else proba.argmax(axis=1)
    average = "binary" if n_classes == 2 else "macro"
    labels = list(range(n_classes))
    values: dict[str, float | None] = {
        "accuracy": float(skm.accuracy_score(true, pred)),
        "f1": float(skm.f1_score(true, pred, average=average, labels=labels, zero_division=0)),
        "precision": float(skm.precision_score(true, pred, average=average, labels=labels, zero_division=0)),
        "recall": float(skm.recall_score(true, pred, average=average, labels=labels, zero_division=0)),
        "auc": _auc(true, proba, labels),
    }
    return {name: values[name] for name in names}


def _auc(true: np.ndarray, proba: np.ndarray, labels: list[int]) -> float | None:
    if len(np.unique(true)) < 2:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UndefinedMetricWarning)  # a class absent from the rows: auc undefined
            if proba.ndim == 1:
                return clean(float(skm.roc_auc_score(true, proba)))
            return clean(float(skm.roc_auc_score(true, proba, multi_class="ovr", average="macro", labels=labels)))
    except ValueError:  # older scikit-learn raises instead of returning nan
        return None


def task_metrics(true: np.ndarray, output: np.ndarray, info: TaskInfo, names: tuple[str, ...]) -> dict[str, Any]:
    """Metrics of one task from its labelled rows: raw model outputs in, original-scale values out."""
    if info.kind == "regression":
        return regression_metrics(true, output, names)
    return classification_metrics(true.astype(int), output, max(len(info.classes), 2), names)


def clean(value: float | None) -> float | None:
    """None for nan/inf so results stay valid JSON."""
    return None if value is None or not math.isfinite(value) else value
