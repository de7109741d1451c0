"""TaskSpec: defaults per kind, metric directions, and the rules of derived labels."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from mtl_core.tasks import CLASSIFICATION_METRICS, REGRESSION_METRICS, TaskSpec, higher_is_better, metrics_for


@pytest.mark.parametrize(("kind", "extra", "loss", "metric", "metrics"), [
    ("regression", {}, "mse", "mse", REGRESSION_METRICS),
    ("binary", {"threshold": 6}, "bce", "accuracy", CLASSIFICATION_METRICS),
    ("multiclass", {}, "cross_entropy", "accuracy", CLASSIFICATION_METRICS),
])
def test_unset_loss_and_metrics_take_the_defaults_of_the_kind(
    kind: str, extra: dict[str, object], loss: str, metric: str, metrics: tuple[str, ...]
) -> None:
    task = TaskSpec(name="t", column="c", kind=kind, **extra)  # type: ignore[arg-type]
    assert (task.loss, task.metric, task.metrics) == (loss, metric, metrics)


def test_given_loss_and_metrics_are_kept() -> None:
    task = TaskSpec(name="t", column="c", kind="regression", loss="smooth_l1", metrics=("mae",), metric="mae")
    assert (task.loss, task.metrics, task.metric) == ("smooth_l1", ("mae",), "mae")


def test_the_regression_metrics_and_the_classification_metrics_are_the_documented_names() -> None:
    assert metrics_for("regression") == ("mse", "rmse", "mae", "r2")
    assert set(metrics_for("binary")) == set(metrics_for("multiclass")) == {"accuracy", "f1", "precision", "recall", "auc"}


@pytest.mark.parametrize(("metric", "higher"), [
    ("mse", False), ("rmse", False), ("mae", False), ("r2", True),
    ("accuracy", True), ("f1", True), ("precision", True), ("recall", True), ("auc", True),
])
def test_higher_is_better_only_for_scores_not_for_errors(metric: str, higher: bool) -> None:
    assert higher_is_better(metric) is higher


@pytest.mark.parametrize(("settings", "field", "words"), [
    ({"kind": "regression", "loss": "bce"}, "loss", "does not fit a regression task"),
    ({"kind": "multiclass", "loss": "bce"}, "loss", "does not fit a multiclass task"),
    ({"kind": "regression", "threshold": 6}, "threshold", 'set kind = "binary"'),
    ({"kind": "multiclass", "equals": "red"}, "equals", 'set kind = "binary"'),
    ({"kind": "binary", "bins": [1.0, 2.0]}, "bins", 'set kind = "multiclass"'),
    ({"kind": "multiclass", "bins": 1}, "bins", "at least 2"),
    ({"kind": "multiclass", "bins": [3.0, 1.0]}, "bins", "strictly increasing"),
    ({"kind": "multiclass", "bins": [1.0, 1.0]}, "bins", "strictly increasing"),
    ({"kind": "multiclass", "bins": []}, "bins", "strictly increasing"),
    ({"kind": "binary", "threshold": 6, "equals": "x"}, "equals", "one derive rule"),
    ({"kind": "binary", "standardize": True}, "standardize", "regression tasks only"),
    ({"kind": "regression", "metrics": ["auc"]}, "metrics", "'auc' does not apply"),
    ({"kind": "binary", "metric": "r2"}, "metrics", "'r2' does not apply"),
])
def test_a_rule_broken_is_reported_under_its_own_field(settings: dict[str, object], field: str, words: str) -> None:
    with pytest.raises(ValidationError) as caught:
        TaskSpec(name="t", column="c", **settings)  # type: ignore[arg-type]
    message = str(caught.value)
    assert f"@{field}: " in message and words in message


@pytest.mark.parametrize("settings", [
    {"kind": "binary", "threshold": 6.5},
    {"kind": "binary", "equals": "red"},
    {"kind": "multiclass", "bins": [1.0, 2.5, 4.0]},
    {"kind": "multiclass", "bins": 4},
    {"kind": "regression", "standardize": True},
])
def test_each_derive_rule_is_accepted_with_its_own_kind(settings: dict[str, object]) -> None:
    task = TaskSpec(name="t", column="c", **settings)  # type: ignore[arg-type]
    assert task.derived is (settings["kind"] != "regression")


def test_quantile_bins_is_the_class_count_only_for_a_number() -> None:
    assert TaskSpec(name="t", column="c", kind="multiclass", bins=4).quantile_bins == 4
    assert TaskSpec(name="t", column="c", kind="multiclass", bins=(1.0, 2.0)).quantile_bins is None


def test_classification_kinds_say_so() -> None:
    assert not TaskSpec(name="t", column="c").is_classification
    assert TaskSpec(name="t", column="c", kind="multiclass").is_classification


@pytest.mark.parametrize("name", ["", " padded", "padded ", "x" * 65])
def test_a_task_name_is_non_empty_unpadded_and_short(name: str) -> None:
    with pytest.raises(ValidationError):
        TaskSpec(name=name, column="c")


def test_a_task_spec_is_frozen() -> None:
    task = TaskSpec(name="t", column="c")
    with pytest.raises(ValidationError):
        task.loss = "l1"  # type: ignore[misc]
