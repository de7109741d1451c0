"""Model selection, early stopping and learning-rate schedules: the selected epoch's weights are the ones evaluated."""

from __future__ import annotations

import math
from typing import Any

import pytest
import torch

from mtl_core.config import ExperimentConfig
from mtl_core.errors import ConfigError
from mtl_core.experiment import collect_results, prepare
from mtl_core.tasks import TaskSpec
from mtl_core.train import Trainer
from mtl_core.train.schedule import make_scheduler, step_scheduler
from mtl_core.train.selection import Selection, Watch, watch_for
from tests.fixtures.builders import small_config

OVERSHOOTING = {"epochs": 12, "lr": 0.2}  # diabetes at this rate: the validation loss is lowest at epoch 8 of 12


def train(config: ExperimentConfig) -> dict[str, Any]:
    resolved, dataset = prepare(config)
    return collect_results(resolved, Trainer(resolved, dataset).run())


def lrs(results: dict[str, Any]) -> list[float]:
    return [entry["extras"]["lr"] for entry in results["history"]]


# --- selection ------------------------------------------------------------------------------------------------------


def test_the_selected_epochs_weights_are_the_ones_evaluated() -> None:
    selected = train(small_config(train={**OVERSHOOTING, "select": "val_loss"}))
    best = selected["best_epoch"]
    assert best is not None and 1 < best < selected["epochs_run"] == 12
    assert selected["best_value"] == pytest.approx(sum(selected["history"][best - 1]["val_loss"].values()))
    assert selected["metrics"]["val"] == selected["history"][best - 1]["metrics"]
    stopped_there = train(small_config(train={**OVERSHOOTING, "epochs": best}))
    assert selected["metrics"]["test"] == stopped_there["metrics"]["test"]
    assert selected["predictions"] == stopped_there["predictions"]


def test_without_select_the_last_epoch_is_kept() -> None:
    results = train(small_config(train=OVERSHOOTING))
    assert results["best_epoch"] is None and results["best_value"] is None
    assert results["metrics"]["val"] == results["history"][-1]["metrics"]


def test_a_lower_is_better_metric_selects_its_minimum() -> None:
    results = train(small_config(train={**OVERSHOOTING, "select": "progression.mae"}))
    maes = [entry["metrics"]["progression"]["mae"] for entry in results["history"]]
    assert results["best_epoch"] == maes.index(min(maes)) + 1 and results["best_value"] == min(maes)


def test_a_saturated_metric_keeps_the_epoch_with_the_lower_validation_loss() -> None:
    selection = Selection(Watch("a.auc", higher_is_better=True))
    assert selection.update(1, {"a": 0.9}, {"a": {"auc": 1.0}})
    assert selection.update(2, {"a": 0.5}, {"a": {"auc": 1.0}})
    assert not selection.update(3, {"a": 0.7}, {"a": {"auc": 1.0}})
    assert not selection.update(4, {"a": 0.1}, {"a": {"auc": None}})  # undefined: never the best
    assert (selection.best_epoch_, selection.best_value_) == (2, 1.0)


# --- early stopping -------------------------------------------------------------------------------------------------


def test_early_stopping_ends_completed_with_the_reason() -> None:
    results = train(small_config(train={**OVERSHOOTING, "epochs": 40, "select": "val_loss", "patience": 2}))
    assert results["status"] == "completed"
    assert results["reason"] == "early stop: no improvement of val_loss for 2 epochs"
    assert results["epochs_run"] == len(results["history"]) == results["best_epoch"] + 2 < 40


# --- bad settings ---------------------------------------------------------------------------------------------------


def test_a_misspelt_select_names_the_key_and_lists_the_options() -> None:
    with pytest.raises(ConfigError) as error:
        prepare(small_config(train={"select": "high_progression.auk"}))
    message = str(error.value)
    assert message.startswith("train.select = 'high_progression.auk': task 'high_progression' has no metric 'auk'")
    assert "Did you mean 'high_progression.auc'?" in message
    assert "Choose one of: val_loss, progression.mse" in message and "high_progression.f1" in message


def test_a_select_naming_no_task_lists_the_tasks() -> None:
    tasks = (TaskSpec(name="infected", column="i", kind="binary"), TaskSpec(name="time", column="t"))
    with pytest.raises(ConfigError, match=r"there is no task 'infekted' \(tasks: infected, time\)"):
        watch_for("infekted.auc", tasks)
    assert watch_for("time.mse", tasks) == Watch("time.mse", higher_is_better=False)
    assert watch_for("infected.auc", tasks) == Watch("infected.auc", higher_is_better=True)


@pytest.mark.parametrize(("train", "key"), [
    ({"patience": 3}, "train.patience: "),
    ({"select": "auc"}, "train.select: "),
    ({"scheduler": "linear"}, "train.scheduler = 'linear'"),
    ({"gamma": 1.5}, "train.gamma = 1.5"),
])
def test_bad_settings_name_their_key(train: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError, match=key):
        ExperimentConfig.from_dict({"train": train})


def test_select_without_validation_rows_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"train.select = 'val_loss' is measured on the validation rows"):
        prepare_and_train(small_config(data={"val_size": 0.0}, train={"select": "val_loss"}))


def prepare_and_train(config: ExperimentConfig) -> None:
    resolved, dataset = prepare(config)
    Trainer(resolved, dataset)


# --- learning rate --------------------------------------------------------------------------------------------------


def test_the_learning_rate_of_each_epoch_is_recorded() -> None:
    assert lrs(train(small_config(train={"epochs": 3, "lr": 0.01}))) == [0.01, 0.01, 0.01]


def test_cosine_anneals_from_lr_towards_zero() -> None:
    recorded = lrs(train(small_config(train={"epochs": 4, "lr": 0.01, "scheduler": "cosine"})))
    assert recorded == pytest.approx([0.01 * (1 + math.cos(math.pi * epoch / 4)) / 2 for epoch in range(4)])


def test_step_multiplies_by_gamma_every_step_size_epochs() -> None:
    config = small_config(train={"epochs": 5, "lr": 0.01, "scheduler": "step", "step_size": 2, "gamma": 0.5})
    assert lrs(train(config)) == pytest.approx([0.01, 0.01, 0.005, 0.005, 0.0025])


def test_plateau_decays_after_step_size_epochs_without_improvement() -> None:
    config = ExperimentConfig.from_dict({"train": {"lr": 1.0, "scheduler": "plateau", "step_size": 1, "gamma": 0.5}})
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    scheduler = make_scheduler(config.train, optimizer, Watch("a.auc", higher_is_better=True))
    seen = []
    for value in (0.5, 0.6, 0.6, 0.6, None, 0.7):  # None: an undefined value does not count
        step_scheduler(scheduler, value)
        seen.append(optimizer.param_groups[0]["lr"])
    assert seen == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5]
