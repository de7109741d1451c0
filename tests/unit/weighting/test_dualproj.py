"""DualProj: the mean of the rows projected onto their dual cone."""

from __future__ import annotations

import torch
from torch.testing import assert_close

from mtl_core.weighting import GradientStrategy, create


def dualproj() -> GradientStrategy:
    strategy = create("dualproj")
    assert isinstance(strategy, GradientStrategy)
    return strategy


def test_two_conflicting_tasks_by_hand() -> None:
    # mean of g1 = (1, 0) and g2 = (-2, 1) is (-0.5, 0.5); g1·mean = -0.5 < 0, g2·mean = 1.5 ≥ 0.
    # The cone is {x1 ≥ 0, x2 ≥ 2 x1}; only g1's half-space is violated, so drop the g1 component:
    # mean - (g1·mean / |g1|²) g1 = (-0.5, 0.5) + 0.5 (1, 0) = (0, 0.5) = 1.0 g1 + 0.5 g2, and g2·(0, 0.5) = 0.5 ≥ 0.
    strategy = dualproj()
    direction = strategy(torch.tensor([[1.0, 0.0], [-2.0, 1.0]]))
    assert_close(direction, torch.tensor([0.0, 0.5]))
    assert_close(strategy.implied_weights(), torch.tensor([1.0, 0.5]))


def test_a_mean_without_conflict_is_kept() -> None:
    jacobian = torch.tensor([[1.0, 0.0], [-1.0, 1.0]])  # mean (0, 0.5): g1·mean = 0, g2·mean = 0.5
    assert_close(dualproj()(jacobian), torch.tensor([0.0, 0.5]))


def test_direction_conflicts_with_no_task() -> None:
    jacobian = torch.randn(5, 3, generator=torch.Generator().manual_seed(2))
    products = jacobian @ dualproj()(jacobian)
    assert bool((products >= -1e-6 * jacobian.norm(dim=1).max() ** 2).all())


def test_permuting_the_tasks_leaves_the_direction_unchanged() -> None:
    jacobian = torch.randn(4, 6, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    order = torch.tensor([2, 0, 3, 1])
    assert_close(dualproj()(jacobian[order]), dualproj()(jacobian))
