"""Test and validation metrics, computed on the original scale of each target: with scikit-learn for one model,
and vectorised with numpy over the model axis for several (``task_metrics_per_model``).

The vectorised functions take the labels of one split (the same rows for every model) and one prediction per
model ([N, M] or [N, M, K]) and return one ``{metric: value}`` per model, equal to what scikit-learn gives for
each model alone (same definitions, same undefined cases as None, float64 throughout; a test checks it model by
model). The point is speed: the validation after every epoch of N runs trained together would otherwise call
scikit-learn N × tasks × metrics times, which costs more than the training.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
from scipy.stats import rankdata
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


Values = dict[str, float | None]


def task_metrics_per_model(true: np.ndarray, natural: np.ndarray, info: TaskInfo,
                           names: tuple[str, ...]) -> list[dict[str, Any]]:
    """``task_metrics`` of N models at once: ``true`` [M] (original units or class indices), ``natural`` [N, M(, K)]."""
    if info.kind == "regression":
        return _regression_per_model(true, natural, names)
    return _classification_per_model(true.astype(int), natural, max(len(info.classes), 2), names)


def _regression_per_model(true: np.ndarray, pred: np.ndarray, names: tuple[str, ...]) -> list[Values]:
    """mse, rmse, mae, r2 per model (r2: scikit-learn's 1 − SS_res/SS_tot; 1 or 0 when SS_tot = 0)."""
    errors = true[None, :] - pred  # [N, M]
    mse = np.mean(errors ** 2, axis=1)
    values: dict[str, np.ndarray | None] = {"mse": mse, "rmse": np.sqrt(mse), "mae": np.mean(np.abs(errors), axis=1),
                                            "r2": _r2(true, errors) if len(true) > 1 else None}
    return _per_model(values, names, len(pred))


def _r2(true: np.ndarray, errors: np.ndarray) -> np.ndarray:
    residual = np.sum(errors ** 2, axis=1)  # [N]
    total = float(np.sum((true - np.mean(true)) ** 2))
    if total == 0.0:  # scikit-learn's force_finite: a perfect fit of a constant is 1, anything else 0
        return np.where(residual == 0.0, 1.0, 0.0)
    return 1.0 - residual / total


def _classification_per_model(true: np.ndarray, proba: np.ndarray, n_classes: int,
                                   names: tuple[str, ...]) -> list[Values]:
    """accuracy, f1, precision, recall (binary: positive class; multiclass: macro over all classes), auc."""
    pred = (proba >= 0.5).astype(int) if proba.ndim == 2 else proba.argmax(axis=2)  # [N, M]
    classes = np.arange(n_classes)
    predicted = pred[:, :, None] == classes  # [N, M, K]
    actual = (true[:, None] == classes)[None]  # [1, M, K]
    hits = np.sum(predicted & actual, axis=1).astype(float)  # tp per class, [N, K]
    n_predicted, n_actual = predicted.sum(axis=1).astype(float), actual.sum(axis=1).astype(float)
    precision, recall = _ratio(hits, n_predicted), _ratio(hits, n_actual)
    f1 = _ratio(2.0 * hits, n_predicted + n_actual)
    pick = (lambda score: score[:, 1]) if n_classes == 2 else (lambda score: score.mean(axis=1))
    values: dict[str, np.ndarray | None] = {
        "accuracy": np.mean(pred == true[None, :], axis=1), "f1": pick(f1), "precision": pick(precision),
        "recall": pick(recall), "auc": _auc_per_model(true, proba, n_classes) if "auc" in names else None,
    }
    return _per_model(values, names, len(proba))


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator, 0 where the denominator is 0 (scikit-learn's zero_division=0)."""
    return np.divide(numerator, denominator, out=np.zeros_like(numerator), where=denominator > 0)


def _auc_per_model(true: np.ndarray, proba: np.ndarray, n_classes: int) -> np.ndarray | None:
    """ROC AUC per model as the Mann-Whitney statistic (ties count one half), which is the area under
    scikit-learn's ROC curve; multiclass: one-vs-rest macro, undefined when a class has no row."""
    present = np.unique(true)
    if len(present) < 2 or (proba.ndim == 3 and len(present) < n_classes):
        return None
    if proba.ndim == 2:
        return _binary_auc(true == 1, proba)
    scores = np.stack([_binary_auc(true == k, proba[:, :, k]) for k in range(n_classes)], axis=1)  # [N, K]
    sums_to_one = np.all(np.isclose(proba.sum(axis=2), 1.0, rtol=1e-05, atol=1e-08), axis=1)  # np.allclose(1, ·)
    return np.where(sums_to_one, scores.mean(axis=1), np.nan)  # scikit-learn refuses non-probabilities


def _binary_auc(positive: np.ndarray, score: np.ndarray) -> np.ndarray:
    """P(score of a positive row > score of a negative row) + ½ P(equal), per model: [M] bool, [N, M] → [N]."""
    ranks = rankdata(score, axis=1)  # average ranks for ties
    n_positive = int(positive.sum())
    n_negative = len(positive) - n_positive
    rank_sum = ranks[:, positive].sum(axis=1)
    return (rank_sum - n_positive * (n_positive + 1) / 2.0) / (n_positive * n_negative)


def _per_model(values: dict[str, np.ndarray | None], names: tuple[str, ...], n_models: int) -> list[Values]:
    """Transpose {metric: [N]} into one {metric: float or None} per model, in the order of ``names``."""
    return [{name: (None if values[name] is None else clean(float(values[name][index])))  # type: ignore[index]
             for name in names} for index in range(n_models)]
