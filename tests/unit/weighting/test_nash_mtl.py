"""Nash-MTL: the bargaining solution G α = 1/α, by Newton's method."""

from __future__ import annotations

import math

import numpy as np
import torch
from torch.testing import assert_close

from mtl_core.weighting import GradientStrategy, create
from mtl_core.weighting.nash_mtl import nash_weights


def nash(**hparams: object) -> GradientStrategy:
    strategy = create("nash_mtl", **hparams)
    assert isinstance(strategy, GradientStrategy)
    return strategy


def test_two_orthogonal_tasks_by_hand() -> None:
    # G = diag(1, 4): α1·1·α1 = 1, α2·4·α2 = 1: α = (1, ½), d = (1, 1), ‖d‖ = √2 (= √T, as αᵀGα = Σ α_t/α_t)
    jacobian = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    strategy = nash(max_norm=0.0)
    assert_close(strategy(jacobian), torch.tensor([1.0, 1.0]))
    assert_close(strategy.implied_weights(), torch.tensor([1.0, 0.5]))
    clipped = nash()  # max_norm 1 (the authors' default): d / √2
    assert_close(clipped(jacobian), torch.tensor([1.0, 1.0]) / math.sqrt(2))
    assert_close(clipped.implied_weights(), torch.tensor([1.0, 0.5]) / math.sqrt(2))


def test_two_unit_tasks_at_an_angle_by_hand() -> None:
    # unit rows with cosine 0.6: by symmetry β1 = β2 = b, b (1 + 0.6) = 1/b, b = 1/√1.6
    direction = nash(max_norm=0.0)(torch.tensor([[1.0, 0.0], [0.6, 0.8]], dtype=torch.float64))
    b = 1 / math.sqrt(1.6)
    assert_close(direction, torch.tensor([1.6 * b, 0.8 * b], dtype=torch.float64))


def test_the_weights_solve_the_bargaining_equations() -> None:
    jacobian = np.random.default_rng(0).standard_normal((6, 20))
    jacobian[3] *= 1e4
    gram = jacobian @ jacobian.T
    alpha = nash_weights(gram)
    assert (alpha > 0).all()
    assert np.allclose(gram @ alpha, 1 / alpha, rtol=1e-10)


def test_every_task_improves() -> None:
    jacobian = torch.randn(5, 8, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    assert bool((jacobian @ nash()(jacobian) > 0).all())


def test_a_zero_gradient_gets_weight_zero_and_opposite_gradients_no_update() -> None:
    strategy = nash(max_norm=0.0)
    assert_close(strategy(torch.tensor([[2.0, 0.0], [0.0, 0.0]])), torch.tensor([1.0, 0.0]))  # 4 α² = 1
    assert_close(strategy.implied_weights(), torch.tensor([0.5, 0.0]))
    assert torch.equal(nash()(torch.tensor([[1.0, 2.0], [-2.0, -4.0]])), torch.zeros(2))


def test_weights_are_reused_between_updates() -> None:
    strategy = nash(max_norm=0.0, update_weights_every=2)
    strategy(torch.tensor([[1.0, 0.0], [0.0, 2.0]]))  # α = (1, ½)
    assert_close(strategy(torch.tensor([[3.0, 0.0], [0.0, 1.0]])), torch.tensor([3.0, 0.5]))  # same α
    assert_close(strategy(torch.tensor([[3.0, 0.0], [0.0, 1.0]])), torch.tensor([1.0, 1.0]))  # α = (1/3, 1)
