"""Soft sharing (seed 001): one network per task, tied by a penalty; each penalty against a hand computation,
and a large weight pulls the tasks' trunks together over training."""

from __future__ import annotations

import functools
import math
from typing import Any

import pytest
import torch
from torch.testing import assert_close

from mtl_core.config import ExperimentConfig, ModelConfig
from mtl_core.errors import ConfigError
from mtl_core.experiment import prepare
from mtl_core.models import build_model
from mtl_core.train import RunEnded, Trainer

HEADS = {"a": 1, "b": 1, "c": 1}


def soft(**settings: Any) -> Any:
    """Three tasks on 2 features, trunks of one unit: θ_t = (w_t ∈ R^{1×2}, b_t ∈ R^1)."""
    model = build_model(ModelConfig(architecture="soft_sharing", hidden=(1,), **settings), 2, HEADS)
    with torch.no_grad():
        for network, weight, bias in zip(model.networks, ([1.0, 0.0], [0.0, 1.0], [1.0, 1.0]), (0.0, 0.0, 3.0),
                                         strict=True):
            network.trunk[0].weight.copy_(torch.tensor([weight]))
            network.trunk[0].bias.fill_(bias)
    return model


def test_l2_by_hand() -> None:
    # w̄ = (2/3, 2/3): deviations (1/3, −2/3), (−2/3, 1/3), (1/3, 1/3) → 5/9 + 5/9 + 2/9 = 4/3
    # b̄ = 1: deviations −1, −1, 2 → 1 + 1 + 4 = 6;  Ω = 4/3 + 6 = 22/3, regulariser = λ·Ω
    model = soft(penalty="l2", lam=0.5)
    assert_close(model.penalty(), torch.tensor(22 / 3))
    assert_close(model.regularizer(), torch.tensor(0.5 * 22 / 3))


def test_trace_norm_by_hand() -> None:
    # W = [[1, 0], [0, 1], [1, 1]]: WᵀW = [[2, 1], [1, 2]], eigenvalues 3 and 1 → σ = √3, 1
    # b stacked = [0, 0, 3] ([3, 1]): one singular value, 3.  Ω = √3 + 1 + 3
    assert_close(soft(penalty="trace_norm").penalty(), torch.tensor(math.sqrt(3) + 1 + 3))


def test_graph_with_the_default_all_ones_matrix_by_hand() -> None:
    # w: ‖(1,0)−(0,1)‖² = 2, ‖(1,0)−(1,1)‖² = 1, ‖(0,1)−(1,1)‖² = 1 → 4;  b: 0 + 9 + 9 = 18;  Ω = 22 (= T · l2)
    assert_close(soft(penalty="graph").penalty(), torch.tensor(22.0))


def test_graph_with_a_given_matrix_by_hand() -> None:
    # A_ab = 2, A_ac = 1, A_bc = 0:  w: 2·2 + 1·1 + 0·1 = 5;  b: 2·0 + 1·9 + 0·9 = 9;  Ω = 14
    graph = ((0, 2, 1), (2, 0, 0), (1, 0, 0))
    assert_close(soft(penalty="graph", graph=graph).penalty(), torch.tensor(14.0))


def test_shared_prior_by_hand() -> None:
    # μ_w = (0, 0), μ_b = 1, σ² = 2:  w: 1 + 1 + 2 = 4;  b: 1 + 1 + 4 = 6;  Ω = 10 / (2·2) = 2.5
    model = soft(penalty="shared_prior", prior_variance=2.0)
    with torch.no_grad():
        model.prior_mean[1].fill_(1.0)
    assert_close(model.penalty(), torch.tensor(2.5))


def test_the_prior_mean_is_a_learned_parameter_outside_the_shared_set() -> None:
    model = soft(penalty="shared_prior")
    every, shared = {id(p) for p in model.parameters()}, {id(p) for p in model.shared_parameters()}
    assert all(id(mean) in every and id(mean) not in shared for mean in model.prior_mean)
    model.regularizer().backward()
    assert all(mean.grad is not None and mean.grad.any() for mean in model.prior_mean)


def test_the_tied_trunks_are_the_shared_parameters_and_lam_zero_means_no_regulariser() -> None:
    model = soft(lam=0.0)
    assert model.regularizer() is None
    trunks = {id(p) for network in model.networks for p in network.trunk.parameters()}
    assert {id(p) for p in model.shared_parameters()} == trunks


@pytest.mark.parametrize(("settings", "message"), [
    ({"penalty": "graph", "graph": ((0, 1), (1, 0))}, r"model\.graph has 2 rows.*3×3"),
    ({"penalty": "graph", "graph": ((0, 1, 1), (0, 0, 1), (1, 1, 0))}, r"model\.graph must be symmetric"),
    ({"penalty": "graph", "graph": ((0, -1, 1), (-1, 0, 1), (1, 1, 0))}, r"model\.graph\.0\.1 = -1"),
    ({"penalty": "l2", "graph": ((0, 1, 1), (1, 0, 1), (1, 1, 0))}, r"^model\.graph: graph is read only with penalty = 'graph'"),
    ({"lam": -1}, r"model\.lam = -1"),
    ({"penalty": "l1"}, r"model\.penalty = 'l1'"),
])
def test_bad_settings_name_their_key(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        soft(**settings)


@functools.cache
def trained(penalty: str, lam: float) -> Any:
    """The soft_sharing model after 10 full-batch epochs (lr 0.05) on diabetes.

    λ = 0 gives the same model for every penalty.
    """
    config = ExperimentConfig.from_dict({
        "data": {"dataset": "diabetes"}, "train": {"epochs": 10, "lr": 0.05, "seed": 0, "device": "cpu"},
        "model": {"architecture": "soft_sharing", "hidden": [8], "penalty": penalty, "lam": lam},
    })
    config, dataset = prepare(config)
    trainer = Trainer(config, dataset)
    assert isinstance(list(trainer.run())[-1], RunEnded)
    return trainer.model


@torch.no_grad()
def trunk_spread(model: Any) -> float:
    """Σ_t ‖θ_t − θ̄‖² over the trunks."""
    return sum(float((group - group.mean(dim=0)).square().sum()) for group in model.stacked_trunks())


@pytest.mark.parametrize("penalty", ["l2", "graph", "shared_prior"])
def test_a_large_weight_pulls_the_trunks_together(penalty: str) -> None:
    assert trunk_spread(trained(penalty, 10.0)) < 0.2 * trunk_spread(trained("l2", 0.0))


def test_a_large_trace_norm_weight_lowers_the_nuclear_norm() -> None:
    independent, tied = trained("l2", 0.0), trained("trace_norm", 10.0)  # trained outside no_grad
    with torch.no_grad():
        without = sum(float(torch.linalg.svdvals(group.flatten(1)).sum()) for group in independent.stacked_trunks())
        assert float(tied.penalty()) < 0.5 * without


def test_the_regulariser_is_logged_each_epoch() -> None:
    config = ExperimentConfig.from_dict({
        "data": {"dataset": "diabetes"}, "train": {"epochs": 2, "seed": 0, "device": "cpu"},
        "model": {"architecture": "soft_sharing", "hidden": [4], "lam": 0.1},
    })
    config, dataset = prepare(config)
    epochs = [event for event in Trainer(config, dataset).run() if hasattr(event, "extras")]
    assert len(epochs) == 2 and all(event.extras["regularizer"] > 0 for event in epochs)
