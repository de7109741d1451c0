"""MGDA: the exact min-norm point of the hull of the task gradients."""

from __future__ import annotations

import pytest
import torch
from torch.testing import assert_close

from mtl_core.errors import ConfigError
from mtl_core.weighting import GradientStrategy, create


def mgda(**hparams: object) -> GradientStrategy:
    strategy = create("mgda", **hparams)
    assert isinstance(strategy, GradientStrategy)
    return strategy


def test_two_conflicting_tasks_by_hand() -> None:
    # G = [[1, -1], [-1, 2]]; ‖γ g1 + (1-γ) g2‖² = γ² − 2γ(1−γ) + 2(1−γ)², derivative 10γ − 6 = 0: γ = 0.6
    strategy = mgda()
    direction = strategy(torch.tensor([[1.0, 0.0], [-1.0, 1.0]]))
    assert_close(direction, torch.tensor([0.2, 0.4]))  # 0.6 (1, 0) + 0.4 (−1, 1)
    assert_close(strategy.implied_weights(), torch.tensor([0.6, 0.4]))


def test_a_gradient_beyond_the_min_norm_point_gets_no_weight() -> None:
    # hull of e1, e2 and (2, 2): the nearest point to 0 is (½, ½) on the segment e1–e2; (2, 2)·(½, ½) = 2 ≥ ‖d‖² = ½
    strategy = mgda()
    direction = strategy(torch.tensor([[1.0, 0.0], [0.0, 1.0], [2.0, 2.0]]))
    assert_close(direction, torch.tensor([0.5, 0.5]))
    assert_close(strategy.implied_weights(), torch.tensor([0.5, 0.5, 0.0]))


def test_when_the_hull_holds_zero_the_update_is_zero() -> None:
    # (e1 + e2 + (−1, −1)) / 3 = 0
    direction = mgda()(torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]]))
    assert_close(direction, torch.zeros(2), atol=1e-7, rtol=0)


def test_l2_normalisation_finds_weights_on_unit_gradients_and_applies_them_to_the_raw_ones() -> None:
    jacobian = torch.tensor([[2.0, 0.0], [0.0, 1.0]])
    # none: G = diag(4, 1), α ∝ (1/4, 1) = (0.2, 0.8), d = (0.4, 0.8); l2: unit rows, α = (½, ½), d = (1, 0.5)
    assert_close(mgda()(jacobian), torch.tensor([0.4, 0.8]))
    assert_close(mgda(normalization="l2")(jacobian), torch.tensor([1.0, 0.5]))


def test_the_direction_does_not_conflict_with_any_task_and_the_weights_lie_on_the_simplex() -> None:
    jacobian = torch.randn(6, 20, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    strategy = mgda()
    direction = strategy(jacobian)
    weights = strategy.implied_weights()
    assert weights is not None and float(weights.min()) >= 0 and abs(float(weights.sum()) - 1) < 1e-12
    assert bool((jacobian @ direction >= direction @ direction - 1e-12).all())  # d·g_t ≥ ‖d‖² (optimality)


def test_a_zero_gradient_makes_the_update_zero() -> None:
    assert torch.equal(mgda()(torch.tensor([[1.0, 2.0], [0.0, 0.0]])), torch.zeros(2))


def test_the_representation_space_is_a_setting_the_trainer_reads() -> None:
    assert mgda(space="representation").space == "representation" and mgda().space == "parameters"


def test_loss_based_normalisations_are_refused_naming_the_setting() -> None:
    with pytest.raises(ConfigError, match=r"strategy\.normalization"):
        create("mgda", normalization="loss")
