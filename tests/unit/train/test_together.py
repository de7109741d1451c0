"""Runs trained together: N seeds in one loop give the results of N separate runs, to the last bit of every
trained number, and what cannot be made exact is refused with a reason."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mtl_core.config import ExperimentConfig
from mtl_core.data import TaskInfo
from mtl_core.errors import ConfigError
from mtl_core.tasks import CLASSIFICATION_METRICS, REGRESSION_METRICS
from mtl_core.experiment import run_to_results, run_together
from mtl_core.train import together_reason
from mtl_core.train.metrics import task_metrics, task_metrics_per_model
from tests.fixtures.builders import small_config, toy_table

TOLERANCE = 1e-12  # only the vectorised validation metrics may round apart
SEEDS = (0, 1, 2)
BAND = {"name": "band", "column": "progression", "kind": "multiclass", "bins": 3}
DIABETES_TASKS = [
    {"name": "progression", "column": "progression", "kind": "regression", "standardize": True},
    {"name": "high", "column": "progression", "kind": "binary", "threshold": 140.5},
]


def seeded(config: ExperimentConfig, seeds: tuple[int, ...] = SEEDS) -> list[ExperimentConfig]:
    return [config.with_overrides([f"train.seed={seed}"]) for seed in seeds]


def assert_close(together: Any, separate: Any, where: str = "", tolerance: float = 1e-5) -> None:
    """Equal structure; floats within ``tolerance``, relative to the value where it exceeds 1 (metrics in original
    units such as an mse of 5718 carry float32 outputs: 1e-5 absolute would ask for 1e-9 relative); None and nan
    alike."""
    if isinstance(separate, dict):
        assert isinstance(together, dict) and list(together) == list(separate), where
        for key in separate:
            assert_close(together[key], separate[key], f"{where}.{key}", tolerance)
    elif isinstance(separate, list):
        assert isinstance(together, list) and len(together) == len(separate), where
        for index, (left, right) in enumerate(zip(together, separate, strict=True)):
            assert_close(left, right, f"{where}[{index}]", tolerance)
    elif isinstance(separate, float) and not math.isnan(separate):
        assert isinstance(together, (int, float)), (where, together)
        assert math.isclose(together, separate, rel_tol=tolerance, abs_tol=tolerance), (where, together, separate)
    else:
        assert together == separate or (together != together and separate != separate), (where, together, separate)


def assert_same_runs(together: list[dict[str, Any]], separate: list[dict[str, Any]]) -> None:
    assert len(together) == len(separate)
    for one, other in zip(together, separate, strict=True):
        for key in ("config", "status", "reason", "epochs_run", "best_epoch", "run", "environment"):
            assert one[key] == other[key], key
        timeless = [[{k: v for k, v in entry.items() if k not in ("duration_s", "elapsed_s")}
                     for entry in result["history"]] for result in (one, other)]
        assert one["predictions"] == other["predictions"]  # every trained number is the separate run's, bit for bit
        assert [entry["train_loss"] for entry in timeless[0]] == [entry["train_loss"] for entry in timeless[1]]
        for key in ("metrics", "best_value"):
            assert_close(one[key], other[key], key, TOLERANCE)
        assert_close(timeless[0], timeless[1], "history", TOLERANCE)


def check_equal(config: ExperimentConfig, seeds: tuple[int, ...] = SEEDS) -> list[dict[str, Any]]:
    configs = seeded(config, seeds)
    assert together_reason(configs) is None
    together = run_together(configs)
    assert_same_runs(together, [run_to_results(one) for one in configs])
    return together


# --- the same numbers as separate runs ------------------------------------------------------------------------------

def test_hps_full_batch_regression_binary_multiclass_equals_separate_runs() -> None:
    config = small_config(tasks=[*DIABETES_TASKS, BAND], model={"hidden": [16, 8]}, train={"epochs": 6})
    results = check_equal(config)
    assert {result["status"] for result in results} == {"completed"}
    assert results[0]["metrics"]["test"] != results[1]["metrics"]["test"]  # the seeds really differ


def test_single_task_mini_batches_equal_separate_runs() -> None:
    config = small_config(tasks=[*DIABETES_TASKS, BAND], model={"architecture": "single_task", "hidden": [8]},
                          train={"epochs": 3, "batch_size": 64})
    check_equal(config)


@pytest.mark.parametrize("strategy", [{"name": "uncertainty"}, {"name": "static", "weights": [0.3, 2.0]},
                                      {"name": "dwa"}, {"name": "rlw", "seed": 4}])
def test_loss_based_strategies_weigh_each_run_as_its_own_trainer_would(strategy: dict[str, Any]) -> None:
    config = small_config(tasks=DIABETES_TASKS, strategy=strategy, train={"epochs": 4, "batch_size": 100})
    check_equal(config, (0, 5))


def test_dropout_clipping_weight_decay_selection_and_schedule_are_per_run() -> None:
    config = small_config(
        tasks=DIABETES_TASKS, model={"hidden": [16, 16], "dropout": 0.3, "norm": "layer", "activation": "gelu"},
        train={"epochs": 5, "batch_size": 128, "optimizer": "adamw", "weight_decay": 0.01, "clip_grad_norm": 0.5,
               "select": "high.auc", "scheduler": "cosine"})
    check_equal(config)


def test_early_stopping_ends_each_run_at_its_own_epoch() -> None:
    config = small_config(tasks=DIABETES_TASKS, train={"epochs": 12, "lr": 0.05, "select": "progression.mse",
                                                       "patience": 2, "optimizer": "sgd", "momentum": 0.9})
    results = check_equal(config, (0, 1, 2, 3))
    assert len({result["epochs_run"] for result in results}) > 1  # the runs stopped at different epochs


def test_a_task_with_missing_labels_is_masked_in_every_run(tmp_path: Path) -> None:
    table = toy_table(120)
    table.loc[table.index % 4 == 0, "y"] = np.nan  # a quarter of the rows have no label for y
    table.to_csv(tmp_path / "toy.csv", index=False)
    config = small_config(data={"dataset": None, "path": str(tmp_path / "toy.csv")},
                          tasks=[{"name": "y", "column": "y"}, {"name": "k", "column": "k", "kind": "multiclass"}],
                          train={"epochs": 4, "batch_size": 16})
    check_equal(config)


def test_one_diverging_run_leaves_the_others_as_their_separate_runs() -> None:
    exploding = [{"name": "progression", "column": "progression"}, DIABETES_TASKS[1]]  # mse in units², plain SGD
    config = small_config(tasks=exploding, train={"epochs": 6, "lr": 0.02, "optimizer": "sgd"})
    seeds = tuple(range(6))
    results = check_equal(config, seeds)
    statuses = {result["status"] for result in results}
    assert statuses == {"diverged", "completed"}, statuses  # a mixed group: some diverge, some do not


def test_stopping_stops_every_run_with_its_evaluation() -> None:
    asked = iter(range(100))
    results = run_together(seeded(small_config(tasks=DIABETES_TASKS, train={"epochs": 5})), lambda: next(asked) >= 2)
    assert [(r["status"], r["epochs_run"], len(r["history"])) for r in results] == [("stopped", 2, 2)] * len(SEEDS)
    assert all(result["metrics"]["test"] for result in results)


@pytest.mark.parametrize("model", [
    {"architecture": "mmoe", "hidden": [8], "n_experts": 3},
    {"architecture": "soft_sharing", "hidden": [8]},  # a regulariser joins the gradient and the extras
    {"architecture": "hps", "hidden": [16], "norm": "batch"},  # running statistics per model
])
def test_any_architecture_trains_together_as_separate_runs(model: dict[str, Any]) -> None:
    check_equal(small_config(tasks=DIABETES_TASKS, model=model, train={"epochs": 3, "batch_size": 100}))


@pytest.mark.parametrize("strategy", [{"name": "pcgrad"}, {"name": "mgda", "space": "representation"},
                                      {"name": "gradnorm"}, {"name": "grad_ratio"}])
def test_gradient_strategies_train_together_as_separate_runs(strategy: dict[str, Any]) -> None:
    check_equal(small_config(tasks=DIABETES_TASKS, strategy=strategy, train={"epochs": 3}), (0, 1))


# --- what is refused ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("sections", "reason"), [
    ({"strategy": {"name": "pcgrad"}, "train": {"batch_size": 32}}, "with mini-batches"),
    ({"train": {"scheduler": "plateau"}}, "train.scheduler = 'plateau'"),
])
def test_what_cannot_be_made_exact_is_refused_with_a_reason(sections: dict[str, Any], reason: str) -> None:
    found = together_reason(seeded(small_config(**sections)))
    assert found is not None and reason in found


def test_runs_that_differ_in_more_than_the_seed_are_refused() -> None:
    configs = [small_config(), small_config(train={"seed": 1, "lr": 0.1})]
    assert together_reason(configs) == "the runs differ in train.lr, not only in train.seed"
    assert together_reason([]) is not None
    assert together_reason([small_config()]) is None
    with pytest.raises(ConfigError, match="train.lr"):
        run_together(configs)


# --- vectorised metrics ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["regression", "binary", "multiclass"])
def test_vectorised_metrics_equal_scikit_learn_model_by_model(kind: str) -> None:
    rng = np.random.default_rng(7)
    for trial in range(40):
        rows = int(rng.integers(1, 30))
        if kind == "regression":
            info, true = TaskInfo("t", kind, "mse", 1, ()), rng.normal(size=rows).round(trial % 2)
            natural = rng.normal(size=(3, rows)).round(1)
        elif kind == "binary":
            info, true = TaskInfo("t", kind, "bce", 1, ("0", "1")), rng.integers(0, 2, rows).astype(float)
            natural = rng.random((3, rows)).round(1 + trial % 2)  # rounding makes ties
        else:
            info = TaskInfo("t", kind, "cross_entropy", 3, ("a", "b", "c"))
            true = rng.integers(0, 3, rows).astype(float)
            logits = rng.normal(size=(3, rows, 3)).round(1)
            natural = np.exp(logits) / np.exp(logits).sum(axis=2, keepdims=True)
        names = REGRESSION_METRICS if kind == "regression" else CLASSIFICATION_METRICS
        for model, values in enumerate(task_metrics_per_model(true, natural, info, names)):
            expected = {k: None if v is None or not math.isfinite(v) else v
                        for k, v in task_metrics(true, natural[model], info, names).items()}
            assert_close(values, expected, f"{kind} trial {trial}")
