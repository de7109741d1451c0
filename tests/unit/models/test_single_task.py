"""single_task: T independent networks; it must train exactly as T separate one-task hps runs (the baseline's
honesty), and gradient strategies must cope with its empty set of shared parameters."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from mtl_core.config import ExperimentConfig, ModelConfig
from mtl_core.data import default_tasks
from mtl_core.experiment import prepare, run_to_results
from mtl_core.models import build_model
from mtl_core.models.layers import initialize
from mtl_core.train import Trainer
from mtl_core.weighting import available, create

HEADS = {"quality": 1, "good": 1, "kind": 4}


def single_task(**settings: Any) -> Any:
    return build_model(ModelConfig(architecture="single_task", **settings), 11, HEADS)


def experiment(**sections: Any) -> ExperimentConfig:
    """Diabetes without stratification: one-task runs then split the rows exactly as the two-task run does."""
    values = {"data": {"dataset": "diabetes", "stratify": False},
              "train": {"epochs": 15, "batch_size": 64, "lr": 0.01, "seed": 3, "device": "cpu"}, **sections}
    return ExperimentConfig.from_dict(values)


def test_each_task_has_its_own_network_and_nothing_is_shared() -> None:
    model = single_task(hidden=(8,))
    assert list(model.shared_parameters()) == [] and not model.has_representation
    model(torch.randn(3, 11))["good"].sum().backward()
    used = [network is model.networks[1] for network in model.networks for p in network.parameters()
            if p.grad is not None]
    assert used and all(used)


def test_each_network_is_drawn_as_a_one_task_hps_model_on_the_same_seed() -> None:
    model = single_task(hidden=(8, 4))
    model.initialize_parameters(torch.Generator().manual_seed(7))
    for name, network in zip(HEADS, model.networks, strict=True):
        alone = build_model(ModelConfig(hidden=(8, 4)), 11, {name: HEADS[name]})
        initialize(alone, torch.Generator().manual_seed(7))
        assert all(torch.equal(a, b) for a, b in zip(network.parameters(), alone.parameters(), strict=True))


def test_single_task_trains_exactly_as_separate_one_task_hps_runs() -> None:
    tasks = [task.model_dump() for task in default_tasks(experiment().data)]
    config = experiment(tasks=tasks, model={"architecture": "single_task", "hidden": [16, 8]})
    _, dataset = prepare(config)
    networks = Trainer(config, dataset).model.networks  # the trainer lets the model draw its own parameters
    assert torch.equal(networks[0].trunk[0].weight, networks[1].trunk[0].weight)
    together = run_to_results(config)["metrics"]["test"]
    for task in tasks:
        alone = run_to_results(experiment(tasks=[task], model={"architecture": "hps", "hidden": [16, 8]}))
        for metric, value in alone["metrics"]["test"][task["name"]].items():
            assert together[task["name"]][metric] == pytest.approx(value, rel=1e-6, abs=1e-6), (task["name"], metric)


@pytest.mark.parametrize("name", available(kind="gradient"))
def test_every_gradient_strategy_aggregates_an_empty_jacobian_to_an_empty_direction(name: str) -> None:
    direction = create(name)(torch.zeros(3, 0))
    assert tuple(direction.shape) == (0,) and bool(direction.isfinite().all())


@pytest.mark.parametrize("strategy", ["pcgrad", "grad_ratio"])
def test_a_gradient_strategy_trains_single_task_like_equal(strategy: str) -> None:
    tasks = [task.model_dump() for task in default_tasks(experiment().data)]
    model = {"architecture": "single_task", "hidden": [8]}
    short = {"epochs": 3, "seed": 0, "device": "cpu"}
    gradient = run_to_results(experiment(tasks=tasks, model=model, strategy={"name": strategy}, train=short))
    equal = run_to_results(experiment(tasks=tasks, model=model, train=short))
    assert gradient["status"] == "completed"
    if strategy == "pcgrad":  # nothing shared: every network gets its own task's gradient, as under equal
        assert gradient["metrics"] == equal["metrics"]
