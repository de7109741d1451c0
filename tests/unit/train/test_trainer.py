"""Trainer: events in order, reproducible from train.seed, divergence and stopping as results, both update paths."""

from __future__ import annotations

import math
import re
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch

from mtl_core.config import ExperimentConfig, load_config
from mtl_core.data import build_dataset
from mtl_core.errors import ConfigError
from mtl_core.experiment import collect_results, prepare
from mtl_core.train import EpochEnded, Event, RunEnded, RunStarted, Trainer
from mtl_core.weighting import STRATEGIES, GradientStrategy
from tests.fixtures.builders import small_config, toy_config, toy_table, without_timings

WINE_TOML = Path(__file__).resolve().parents[3] / "examples" / "wine_seed.toml"


def train(config: ExperimentConfig, should_stop: Callable[[], bool] | None = None) -> dict[str, Any]:
    """Results of one run (the RESULTS.json structure), with the dataset prepared from the config."""
    resolved, dataset = prepare(config)
    return collect_results(resolved, Trainer(resolved, dataset, should_stop).run())


def train_on(table: pd.DataFrame, config: ExperimentConfig) -> dict[str, Any]:
    dataset = build_dataset(table, config.tasks, config.data, "toy.csv")
    return collect_results(config, Trainer(config, dataset).run())


def stop_after(epochs: int) -> Callable[[], bool]:
    """A should_stop that lets ``epochs`` epochs run (it is asked once before each epoch)."""
    asked = iter(range(10_000))
    return lambda: next(asked) >= epochs


def final_metrics(results: dict[str, Any]) -> list[float]:
    return [value for split in ("val", "test") for task in results["metrics"][split].values()
            for value in task.values() if value is not None]


# --- events ---------------------------------------------------------------------------------------------------------


def test_a_run_yields_started_then_one_event_per_epoch_then_ended() -> None:
    config, dataset = prepare(small_config(train={"epochs": 4}))
    events: list[Event] = list(Trainer(config, dataset).run())
    started, *epochs, ended = events
    assert isinstance(started, RunStarted) and isinstance(ended, RunEnded)
    assert [event.epoch for event in epochs if isinstance(event, EpochEnded)] == [1, 2, 3, 4]
    assert started.tasks == ("progression", "high_progression") and started.epochs == 4
    assert (started.n_train, started.n_val, started.n_test) == (len(dataset.train), len(dataset.val), len(dataset.test))
    assert started.device == "cpu" and started.strategy == "equal"
    assert ended.status == "completed" and ended.epochs_run == 4 and ended.reason == ""


def test_each_epoch_reports_losses_weights_and_validation_metrics_per_task() -> None:
    history = train(small_config())["history"]
    for entry in history:
        assert set(entry["train_loss"]) == set(entry["val_loss"]) == set(entry["weights"]) == set(entry["metrics"])
        assert entry["weights"] == {"progression": 1.0, "high_progression": 1.0}
        assert all(math.isfinite(value) for value in entry["train_loss"].values())
        assert set(entry["metrics"]["progression"]) == {"mse", "rmse", "mae", "r2"}
        assert entry["elapsed_s"] >= entry["duration_s"] >= 0


def test_training_lowers_the_loss() -> None:
    history = train(small_config(train={"epochs": 15, "lr": 0.05}))["history"]
    assert history[-1]["train_loss"]["progression"] < history[0]["train_loss"]["progression"]


# --- reproducibility ------------------------------------------------------------------------------------------------


def test_the_same_seed_gives_identical_metrics_history_and_predictions() -> None:
    config = small_config(train={"epochs": 4, "batch_size": 32}, model={"hidden": [8], "dropout": 0.2})
    first, second = train(config), train(config)
    assert without_timings(first["history"]) == without_timings(second["history"])
    assert first["metrics"] == second["metrics"] and first["predictions"] == second["predictions"]


def test_a_different_seed_gives_different_results_on_the_same_split() -> None:
    first = train(small_config(train={"seed": 0}))
    second = train(small_config(train={"seed": 1}))
    assert first["run"]["n_train"] == second["run"]["n_train"]
    assert first["predictions"]["progression"]["row"] == second["predictions"]["progression"]["row"]
    assert first["metrics"] != second["metrics"]
    assert first["history"][0]["train_loss"] != second["history"][0]["train_loss"]


def test_a_run_does_not_depend_on_the_process_wide_random_state() -> None:
    config = small_config(train={"batch_size": 64}, model={"hidden": [8], "dropout": 0.3})
    torch.manual_seed(1)
    first = train(config)
    torch.manual_seed(2)
    np.random.seed(2)
    assert without_timings(train(config)["history"]) == without_timings(first["history"])


# --- divergence and stopping ----------------------------------------------------------------------------------------


def test_a_huge_sgd_learning_rate_ends_diverged_with_the_history_so_far() -> None:
    results = train(small_config(train={"lr": 1e6, "optimizer": "sgd", "epochs": 20}))
    assert results["status"] == "diverged"
    match = re.fullmatch(r"loss of task '(progression|high_progression)' became (nan|inf|-inf) at epoch (\d+)",
                         results["reason"])
    assert match, results["reason"]
    epoch = int(match.group(3))
    assert 1 <= epoch < 20
    assert [entry["epoch"] for entry in results["history"]] == list(range(1, epoch))
    assert results["epochs_run"] == epoch - 1
    assert results["metrics"] == {"val": {}, "test": {}}


def test_a_huge_adam_learning_rate_on_wine_ends_diverged(wine_available: object) -> None:
    config = load_config(WINE_TOML, ["train.lr=1e6", "train.epochs=20", "train.device=cpu"])
    results = train(config)
    assert results["status"] == "diverged" and "'quality'" in results["reason"]
    assert len(results["history"]) == results["epochs_run"] < 20


def test_should_stop_after_two_epochs_stops_with_two_epochs_and_metrics() -> None:
    results = train(small_config(train={"epochs": 10}), should_stop=stop_after(2))
    assert results["status"] == "stopped" and results["epochs_run"] == 2
    assert [entry["epoch"] for entry in results["history"]] == [1, 2]
    assert "before epoch 3" in results["reason"]
    for split in ("val", "test"):
        assert set(results["metrics"][split]) == {"progression", "high_progression"}
        assert all(value is not None for value in results["metrics"][split]["progression"].values())
    assert results["predictions"]["progression"]["pred"]


def test_stopping_before_the_first_epoch_still_evaluates_the_initial_model() -> None:
    results = train(small_config(), should_stop=lambda: True)
    assert results["status"] == "stopped" and results["history"] == [] and results["epochs_run"] == 0
    assert set(results["metrics"]["test"]) == {"progression", "high_progression"}


def test_the_caller_may_stop_iterating_at_any_event() -> None:
    config, dataset = prepare(small_config(train={"epochs": 50}))
    run = Trainer(config, dataset).run()
    first_two = [next(run), next(run)]
    assert isinstance(run, types.GeneratorType)
    run.close()
    assert isinstance(first_two[1], EpochEnded) and first_two[1].epoch == 1


# --- batches, labels, strategies -------------------------------------------------------------------------------------


def test_mini_batches_of_32_train_and_differ_from_full_batch() -> None:
    mini = train(small_config(train={"batch_size": 32, "epochs": 2}))
    full = train(small_config(train={"batch_size": 0, "epochs": 2}))
    assert mini["status"] == "completed" and len(mini["history"]) == 2
    assert mini["history"][-1]["train_loss"] != full["history"][-1]["train_loss"]


def test_a_batch_larger_than_the_training_rows_is_one_full_batch() -> None:
    huge = train(small_config(train={"batch_size": 100_000}))
    full = train(small_config(train={"batch_size": 0}))
    assert without_timings(huge["history"]) == without_timings(full["history"])


def test_batch_norm_with_a_last_batch_of_one_row_trains() -> None:
    config, dataset = prepare(small_config(model={"hidden": [8], "norm": "batch"}))
    config = config.with_overrides([f"train.batch_size={len(dataset.train) - 1}"])
    ended = list(Trainer(config, dataset).run())[-1]
    assert isinstance(ended, RunEnded) and ended.status == "completed"


def test_missing_labels_in_one_task_train_and_are_scored_on_labelled_rows_only() -> None:
    table = toy_table(120)
    missing = np.arange(120) % 3 == 0
    table.loc[missing, "y"] = np.nan
    results = train_on(table, toy_config(train={"epochs": 5, "batch_size": 16}))
    assert results["status"] == "completed"
    assert all(math.isfinite(entry["train_loss"]["y"]) for entry in results["history"])
    scored = results["predictions"]["y"]["row"]
    assert scored and not missing[scored].any()
    assert len(results["predictions"]["c"]["row"]) > len(scored)  # the other task keeps those rows


def test_a_batch_without_labels_for_a_task_still_steps() -> None:
    table = toy_table(100)
    table.loc[np.arange(100) % 10 != 0, "y"] = np.nan  # one row in ten labelled
    results = train_on(table, toy_config(train={"epochs": 2, "batch_size": 4}))
    assert results["status"] == "completed"


def test_static_weights_appear_in_the_history() -> None:
    results = train(small_config(strategy={"name": "static", "weights": [2.0, 0.5]}))
    assert results["history"][0]["weights"] == {"progression": 2.0, "high_progression": 0.5}


def test_strategy_weights_that_do_not_fit_the_tasks_are_refused_before_training() -> None:
    config, dataset = prepare(small_config(strategy={"name": "static", "weights": [1.0]}))
    with pytest.raises(ConfigError, match="strategy.weights"):
        Trainer(config, dataset)


def test_an_unavailable_device_is_refused_naming_train_device() -> None:
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    config, dataset = prepare(small_config(train={"device": "cuda"}))
    with pytest.raises(ConfigError, match=r"^train\.device = 'cuda'"):
        Trainer(config, dataset)


class SumOfGradients(GradientStrategy):
    """Test-only: the plain sum of the task gradients, the same update as equal weights."""

    def __init__(self) -> None:
        pass

    def aggregate(self, jacobian: torch.Tensor) -> torch.Tensor:  # [T, P] -> [P]
        return jacobian.sum(dim=0)


@pytest.fixture
def sum_of_gradients() -> Iterator[str]:
    """Registers SumOfGradients under a unique name for one test, then takes it out again."""
    name = "test_sum_of_gradients"
    STRATEGIES.register(name)(SumOfGradients)
    yield name
    STRATEGIES.unregister(name)  # keep other tests' registry unchanged


def test_with_labels_missing_in_some_batches_the_summing_strategy_still_trains_like_equal(
    sum_of_gradients: str,
) -> None:
    table = toy_table(120)
    table.loc[np.arange(120) % 5 != 0, "y"] = np.nan  # many batches of 4 hold no label for y
    settings = {"epochs": 3, "batch_size": 4}
    summed = train_on(table, toy_config(strategy={"name": sum_of_gradients}, train=settings))
    equal = train_on(table, toy_config(strategy={"name": "equal"}, train=settings))
    np.testing.assert_allclose(final_metrics(summed), final_metrics(equal), rtol=1e-4, atol=1e-5)


def test_a_gradient_strategy_summing_rows_trains_like_equal_weights(sum_of_gradients: str) -> None:
    settings = {"epochs": 5, "batch_size": 64}
    summed = train(small_config(strategy={"name": sum_of_gradients}, train=settings))
    equal = train(small_config(strategy={"name": "equal"}, train=settings))
    assert summed["status"] == "completed"
    assert summed["history"][0]["weights"] == {}  # no implied weights
    np.testing.assert_allclose(final_metrics(summed), final_metrics(equal), rtol=1e-4, atol=1e-5)
    for mine, theirs in zip(summed["history"], equal["history"], strict=True):
        assert mine["train_loss"] == pytest.approx(theirs["train_loss"], rel=1e-4)


def test_finite_step_losses_give_a_finite_epoch_loss() -> None:
    rows = 500
    table = pd.DataFrame({"x": np.random.default_rng(0).normal(size=rows), "y": np.where(np.arange(rows) % 2, 3e18,
                                                                                         -3e18)})
    config = ExperimentConfig.from_dict({
        "data": {"path": "big.csv", "val_size": 0.0}, "tasks": [{"name": "y", "column": "y"}],
        "model": {"hidden": [2]}, "train": {"epochs": 1, "batch_size": 4, "lr": 1e-6, "device": "cpu"},
    })
    results = train_on(table, config)
    assert results["status"] != "completed" or math.isfinite(results["history"][0]["train_loss"]["y"])


def test_binary_cross_entropy_and_multiclass_tasks_train_and_predict_classes() -> None:
    config = toy_config(tasks=[{"name": "c", "column": "c", "kind": "binary", "loss": "cross_entropy"},
                               {"name": "k", "column": "k", "kind": "multiclass"}])
    results = train_on(toy_table(150), config)
    assert results["status"] == "completed"
    assert set(results["predictions"]["c"]["pred"]) <= {0, 1} and set(results["predictions"]["k"]["pred"]) <= {0, 1, 2}
    assert all(len(row) == 3 for row in results["predictions"]["k"]["proba"])
    assert results["predictions"]["k"]["classes"] == ["high", "low", "mid"]


def test_a_run_whose_last_update_overflows_is_not_completed() -> None:
    results = train(small_config(train={"lr": 1e6, "optimizer": "sgd", "epochs": 2}))
    predictions = [value for task in results["predictions"].values() for value in task.get("proba", task["pred"])]
    assert results["status"] == "diverged" or all(math.isfinite(value) for value in predictions)


def test_batch_norm_with_batches_of_one_row_is_refused_or_trains() -> None:
    config = small_config(model={"hidden": [8], "norm": "batch"}, train={"batch_size": 1, "epochs": 1})
    try:
        results = train(config)
    except ConfigError as error:
        assert "batch_size" in str(error)
        return
    assert results["status"] == "completed"
