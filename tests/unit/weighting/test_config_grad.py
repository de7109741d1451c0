"""ConFIG: the direction with equal cosine to every task gradient, as long as their projections on it."""

from __future__ import annotations

import math

import torch
from torch.testing import assert_close

from mtl_core.weighting import GradientStrategy, create


def config() -> GradientStrategy:
    strategy = create("config_grad")
    assert isinstance(strategy, GradientStrategy)
    return strategy


def test_orthogonal_rows_by_hand() -> None:
    # Unit rows e1, e2: g_u = U⁺1 = (1, 1), ĝ_u = (1, 1)/√2; length = g1·ĝ_u + g2·ĝ_u = 1/√2 + 2/√2 = 3/√2;
    # direction = 3/√2 · (1, 1)/√2 = (1.5, 1.5).
    assert_close(config()(torch.tensor([[1.0, 0.0], [0.0, 2.0]])), torch.tensor([1.5, 1.5]))


def test_two_conflicting_tasks_by_hand() -> None:
    # u1 = (1, 0), u2 = (-1, 1)/√2. U x = 1: x1 = 1, (-x1 + x2)/√2 = 1 -> g_u = (1, 1 + √2).
    # |g_u| = √(1 + (1 + √2)²) = 2.6131259, ĝ_u = (0.3826834, 0.9238795).
    # length = g1·ĝ_u + g2·ĝ_u = 0.3826834 + (-0.3826834 + 0.9238795) = 0.9238795;
    # direction = 0.9238795 ĝ_u = (0.3535534, 0.8535534).
    direction = config()(torch.tensor([[1.0, 0.0], [-1.0, 1.0]]))
    assert_close(direction, torch.tensor([0.3535534, 0.8535534]))


def test_independent_rows_get_equal_cosines_and_positive_products() -> None:
    jacobian = torch.randn(4, 9, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    direction = config()(jacobian)
    cosines = jacobian @ direction / (jacobian.norm(dim=1) * direction.norm())
    assert_close(cosines, cosines[0].expand(4)) and bool((cosines > 0).all())
    assert math.isclose(float((jacobian @ direction / direction.norm()).sum()), float(direction.norm()))


def test_rows_that_cancel_give_a_zero_direction() -> None:
    # P = 1, rows +3, 0, -2: units +1, 0, -1, and U⁺1 = (Σu)/(Σu²) = 0.
    assert_close(config()(torch.tensor([[3.0], [0.0], [-2.0]])), torch.zeros(1))
