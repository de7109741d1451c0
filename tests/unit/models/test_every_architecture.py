"""Every registered architecture, on either trunk: builds, one output per task, trains to completion, and
declares as shared exactly the parameters more than one task's output depends on."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from torch import nn

from mtl_core.config import ExperimentConfig, ModelConfig
from mtl_core.experiment import run_to_results
from mtl_core.models import ARCHITECTURES, MTLModel, build_model
from tests.fixtures.builders import toy_table

TRUNKS = {"mlp": {"hidden": [6, 4]}, "cnn": {"trunk": "cnn", "channels": [2, 4], "hidden": [4]}}
HEADS = {"score": 1, "flag": 1, "kind": 3}
PER_TRUNK_INPUT = {"mlp": (5,), "cnn": (1, 8, 8)}
CASES = [(name, trunk) for name in ARCHITECTURES.names() for trunk in TRUNKS]


def tiny(name: str, trunk: str) -> MTLModel:
    settings = ModelConfig(architecture=name, **TRUNKS[trunk])  # type: ignore[arg-type]
    return build_model(settings, PER_TRUNK_INPUT[trunk], HEADS)


def config_for(name: str, trunk: str, data: dict[str, Any],
               tasks: list[dict[str, Any]] | None = None) -> ExperimentConfig:
    values: dict[str, Any] = {
        "data": data, "model": {"architecture": name, **TRUNKS[trunk]},
        "train": {"epochs": 3, "batch_size": 256, "lr": 0.01, "seed": 0, "device": "cpu"},
    }
    if tasks is not None:
        values["tasks"] = tasks
    return ExperimentConfig.from_dict(values)


def assert_finite_completed(results: dict[str, Any]) -> None:
    assert results["status"] == "completed", results["reason"]
    losses = [value for entry in results["history"] for value in entry["train_loss"].values()]
    assert len(results["history"]) == 3 and all(math.isfinite(value) for value in losses)
    metrics = [value for task in results["metrics"]["test"].values() for value in task.values()]
    assert metrics and all(value is not None and math.isfinite(value) for value in metrics)


@pytest.mark.parametrize(("name", "trunk"), CASES)
def test_forward_gives_one_output_per_task_with_its_width(name: str, trunk: str) -> None:
    x = torch.randn(3, *PER_TRUNK_INPUT[trunk], generator=torch.Generator().manual_seed(0))
    outputs = tiny(name, trunk)(x)
    assert {task: tuple(output.shape) for task, output in outputs.items()} == {"score": (3, 1), "flag": (3, 1),
                                                                              "kind": (3, 3)}


def tasks_depending_on(model: MTLModel, x: torch.Tensor) -> dict[int, int]:
    """For each parameter (by id), how many task outputs are computed from it (autograd graph membership)."""
    parameters = list(model.parameters())
    counts = dict.fromkeys(map(id, parameters), 0)
    for output in model(x).values():
        grads = torch.autograd.grad(output.sum(), parameters, allow_unused=True, retain_graph=True)
        for parameter, grad in zip(parameters, grads, strict=True):
            counts[id(parameter)] += grad is not None
    return counts


@pytest.mark.parametrize(("name", "trunk"), [case for case in CASES if case[0] != "soft_sharing"])
def test_shared_parameters_are_those_more_than_one_task_depends_on(name: str, trunk: str) -> None:
    model = tiny(name, trunk)
    counts = tasks_depending_on(model, torch.randn(4, *PER_TRUNK_INPUT[trunk]))
    assert all(count >= 1 for count in counts.values()), "every parameter serves some task"
    assert {key for key, count in counts.items() if count >= 2} == {id(p) for p in model.shared_parameters()}


@pytest.mark.parametrize("trunk", list(TRUNKS))
def test_soft_sharing_declares_the_tied_trunks_shared_though_each_serves_one_task(trunk: str) -> None:
    model = tiny("soft_sharing", trunk)
    counts = tasks_depending_on(model, torch.randn(4, *PER_TRUNK_INPUT[trunk]))
    shared = [id(p) for p in model.shared_parameters()]
    assert shared and all(counts[key] == 1 for key in shared)


@pytest.mark.parametrize(("name", "trunk"), CASES)
def test_the_last_shared_layer_is_made_of_model_parameters(name: str, trunk: str) -> None:
    model = tiny(name, trunk)
    every = {id(p) for p in model.parameters()}
    assert model.last_shared_layer() and all(id(p) in every for p in model.last_shared_layer())


@pytest.mark.parametrize("name", ARCHITECTURES.names())
def test_trains_three_epochs_on_a_table(name: str) -> None:
    assert_finite_completed(run_to_results(config_for(name, "mlp", {"dataset": "diabetes"})))


@pytest.mark.parametrize("name", ARCHITECTURES.names())
def test_trains_three_epochs_on_digit_images_with_the_cnn(name: str) -> None:
    config = config_for(name, "cnn", {"dataset": "digits", "params": {"images": True}})
    assert_finite_completed(run_to_results(config))


@pytest.mark.parametrize("name", ARCHITECTURES.names())
def test_trains_with_a_task_whose_label_is_missing_on_most_rows(name: str, tmp_path: Path) -> None:
    table = toy_table(n=120)
    table.loc[table.index % 4 != 0, "y"] = np.nan  # task y is labelled on one row in four only
    path = tmp_path / "toy.csv"
    table.to_csv(path, index=False)
    tasks = [{"name": "y", "column": "y", "kind": "regression"}, {"name": "c", "column": "c", "kind": "binary"},
             {"name": "k", "column": "k", "kind": "multiclass"}]
    config = config_for(name, "mlp", {"path": str(path), "stratify": False}, tasks)
    results = run_to_results(config.model_copy(update={"train": config.train.model_copy(update={"batch_size": 8})}))
    assert_finite_completed(results)
    assert len(results["predictions"]["y"]["row"]) < len(results["predictions"]["c"]["row"])


def test_every_architecture_module_is_registered_once() -> None:
    assert {"hps", "single_task", "mmoe", "cgc", "ple", "cross_stitch", "soft_sharing", "routed"} <= set(
        ARCHITECTURES.names())
    assert all(issubclass(ARCHITECTURES.get(name), nn.Module) for name in ARCHITECTURES.names())
