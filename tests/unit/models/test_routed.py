"""Task-id routed model (seed 004): one trunk, one head per task, each row read from its own task's head."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.testing import assert_close

from mtl_core.config import ExperimentConfig, ModelConfig
from mtl_core.data import load_data
from mtl_core.experiment import resolve, run_to_results
from mtl_core.models import build_model


def test_with_every_row_labelled_for_every_task_it_is_hps_number_for_number() -> None:
    def run(architecture: str) -> dict:
        return run_to_results(ExperimentConfig.from_dict({
            "data": {"dataset": "diabetes"}, "model": {"architecture": architecture, "hidden": [16]},
            "train": {"epochs": 10, "batch_size": 32, "seed": 4, "device": "cpu"},
        }))
    routed, hps = run("routed"), run("hps")
    for task, metrics in hps["metrics"]["test"].items():
        for name, value in metrics.items():
            assert routed["metrics"]["test"][task][name] == pytest.approx(value, rel=1e-7, abs=1e-7)


def test_it_trains_on_routed_rows_and_scores_each_task_on_its_own_rows() -> None:
    config = resolve(ExperimentConfig.from_dict({
        "data": {"dataset": "routed-synthetic"}, "model": {"architecture": "routed", "hidden": [16]},
        "train": {"epochs": 5, "batch_size": 128, "lr": 0.01, "seed": 0, "device": "cpu"},
    }))
    results = run_to_results(config)
    assert results["status"] == "completed"
    task_of_row = load_data(config.data)[0].table["task_id"].to_numpy()
    for task in ("task_0", "task_1", "task_2"):
        entry = results["predictions"][task]
        assert entry["row"] and set(task_of_row[entry["row"]]) == {task}  # its own rows, and only those
        mse = float(np.mean((np.array(entry["true"]) - np.array(entry["pred"])) ** 2))
        assert results["metrics"]["test"][task]["mse"] == pytest.approx(mse, rel=1e-9)
    assert sum(len(results["predictions"][t]["row"]) for t in results["predictions"]) == results["run"]["n_test"]


def test_route_reads_each_row_from_the_head_of_its_task() -> None:
    model = build_model(ModelConfig(architecture="routed", hidden=(4,)), 3, {"a": 1, "b": 1, "c": 1})
    x = torch.randn(4, 3)
    outputs = model(x)
    routed = model.route(outputs, torch.tensor([2, 0, 0, 1]))
    assert_close(routed, torch.cat([outputs["c"][0:1], outputs["a"][1:3], outputs["b"][3:4]]))


def test_route_needs_heads_of_one_width() -> None:
    model = build_model(ModelConfig(architecture="routed", hidden=(4,)), 3, {"a": 1, "k": 3})
    with pytest.raises(ValueError, match="one width"):
        model.route(model(torch.randn(2, 3)), torch.tensor([0, 1]))
