"""Metrics: regression and classification scores equal scikit-learn's; undefined ones are None."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn import metrics as skm

from mtl_core.data import TaskInfo
from mtl_core.tasks import CLASSIFICATION_METRICS, REGRESSION_METRICS
from mtl_core.train.metrics import classification_metrics, clean, regression_metrics, task_metrics

RNG = np.random.default_rng(0)


def test_regression_metrics_equal_sklearns() -> None:
    true, pred = RNG.normal(size=50), RNG.normal(size=50)
    values = regression_metrics(true, pred, REGRESSION_METRICS)
    assert values["mse"] == pytest.approx(skm.mean_squared_error(true, pred))
    assert values["rmse"] == pytest.approx(math.sqrt(skm.mean_squared_error(true, pred)))
    assert values["mae"] == pytest.approx(skm.mean_absolute_error(true, pred))
    assert values["r2"] == pytest.approx(skm.r2_score(true, pred))


def test_a_perfect_regression_scores_zero_error_and_r2_one() -> None:
    true = np.array([1.0, 2.0, 4.0])
    assert regression_metrics(true, true, REGRESSION_METRICS) == {"mse": 0.0, "rmse": 0.0, "mae": 0.0, "r2": 1.0}


def test_r2_is_none_for_a_single_row() -> None:
    assert regression_metrics(np.array([1.0]), np.array([2.0]), ("mse", "r2")) == {"mse": 1.0, "r2": None}


def test_only_the_asked_metrics_are_returned_in_the_asked_order() -> None:
    assert list(regression_metrics(np.zeros(3), np.ones(3), ("mae", "mse"))) == ["mae", "mse"]


def test_binary_metrics_equal_sklearns_at_a_half_threshold() -> None:
    true = RNG.integers(0, 2, size=80)
    proba = np.clip(true * 0.3 + RNG.random(80) * 0.7, 0, 1)
    pred = (proba >= 0.5).astype(int)
    values = classification_metrics(true, proba, 2, CLASSIFICATION_METRICS)
    assert values["accuracy"] == pytest.approx(skm.accuracy_score(true, pred))
    assert values["f1"] == pytest.approx(skm.f1_score(true, pred))
    assert values["precision"] == pytest.approx(skm.precision_score(true, pred))
    assert values["recall"] == pytest.approx(skm.recall_score(true, pred))
    assert values["auc"] == pytest.approx(skm.roc_auc_score(true, proba))


def test_multiclass_metrics_are_macro_averages_and_auc_is_one_vs_rest() -> None:
    true = np.arange(90) % 3
    logits = RNG.normal(size=(90, 3)) + np.eye(3)[true]
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    pred = proba.argmax(axis=1)
    values = classification_metrics(true, proba, 3, CLASSIFICATION_METRICS)
    assert values["accuracy"] == pytest.approx(skm.accuracy_score(true, pred))
    assert values["f1"] == pytest.approx(skm.f1_score(true, pred, average="macro"))
    assert values["precision"] == pytest.approx(skm.precision_score(true, pred, average="macro"))
    assert values["auc"] == pytest.approx(skm.roc_auc_score(true, proba, multi_class="ovr", average="macro"))


def test_auc_is_none_when_the_rows_hold_a_single_class() -> None:
    values = classification_metrics(np.ones(5, dtype=int), np.full(5, 0.7), 2, ("accuracy", "auc"))
    assert values == {"accuracy": 1.0, "auc": None}


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.UndefinedMetricWarning")
def test_multiclass_auc_is_none_when_a_class_is_absent_from_the_rows() -> None:
    true = np.array([0, 1, 0, 1])
    proba = np.full((4, 3), 1 / 3)
    assert classification_metrics(true, proba, 3, ("auc",)) == {"auc": None}


def test_task_metrics_dispatch_on_the_kind() -> None:
    regression = TaskInfo("y", "regression", "mse", 1, ())
    binary = TaskInfo("c", "binary", "bce", 1, ("no", "yes"))
    assert set(task_metrics(np.zeros(3), np.ones(3), regression, REGRESSION_METRICS)) == set(REGRESSION_METRICS)
    values = task_metrics(np.array([0.0, 1.0, 1.0]), np.array([0.2, 0.9, 0.4]), binary, ("accuracy",))
    assert values == {"accuracy": pytest.approx(2 / 3)}


@pytest.mark.parametrize(("value", "cleaned"), [(1.5, 1.5), (None, None), (math.nan, None), (math.inf, None),
                                                (-math.inf, None)])
def test_clean_turns_nan_and_inf_into_none(value: float | None, cleaned: float | None) -> None:
    assert clean(value) == cleaned
