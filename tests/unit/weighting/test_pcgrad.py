"""PCGrad: gradient surgery on the Gram matrix, in a seeded random order."""

from __future__ import annotations

import itertools

import torch
from torch.testing import assert_close

from mtl_core.weighting import GradientStrategy, create


def pcgrad(seed: int = 0) -> GradientStrategy:
    strategy = create("pcgrad", seed=seed)
    assert isinstance(strategy, GradientStrategy)
    return strategy


def test_two_conflicting_tasks_by_hand() -> None:
    # g1·g2 = −1: g1' = (1, 0) − (−1/2)(−1, 1) = (½, ½); g2' = (−1, 1) − (−1/1)(1, 0) = (0, 1)
    strategy = pcgrad()
    assert_close(strategy(torch.tensor([[1.0, 0.0], [-1.0, 1.0]])), torch.tensor([0.5, 1.5]))
    assert_close(strategy.implied_weights(), torch.tensor([2.0, 1.5]))  # (g1 + ½ g2) + (g2 + g1)


def reference(jacobian: torch.Tensor, orders: tuple[list[int], ...]) -> torch.Tensor:
    """Algorithm 1 on the rows themselves, each task visiting the others in the given order."""
    total = torch.zeros(jacobian.shape[1], dtype=jacobian.dtype)
    for i, order in enumerate(orders):
        projected = jacobian[i].clone()
        for j in order:
            dot = projected @ jacobian[j]
            if dot < 0:
                projected -= dot / jacobian[j].square().sum() * jacobian[j]
        total += projected
    return total


def test_with_three_tasks_the_result_is_algorithm_1_for_one_order_of_each_task() -> None:
    # g1 = e1 conflicts with g3 only: visiting g3 first gives (½, −½), then g2 removes −½ e2: (½, 0)
    jacobian = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]], dtype=torch.float64)
    possible = [reference(jacobian, tuple(list(order) for order in orders)) for orders in itertools.product(
        *[list(itertools.permutations([j for j in range(3) if j != i])) for i in range(3)])]
    for seed in range(6):
        direction = pcgrad(seed)(jacobian)
        assert any(torch.allclose(direction, candidate) for candidate in possible)
    assert len({tuple(pcgrad(seed)(jacobian).tolist()) for seed in range(20)}) > 1  # the order matters here


def test_without_conflict_the_gradients_are_summed() -> None:
    jacobian = torch.tensor([[1.0, 2.0, 0.0], [0.5, 0.0, 1.0], [0.0, 1.0, 1.0]])
    assert_close(pcgrad()(jacobian), jacobian.sum(dim=0))


def test_the_same_seed_gives_the_same_sequence_of_directions() -> None:
    jacobians = torch.randn(4, 5, 7, generator=torch.Generator().manual_seed(1))
    first, second = pcgrad(3), pcgrad(3)
    assert all(torch.equal(first(jacobian), second(jacobian)) for jacobian in jacobians)


def test_the_direction_is_its_implied_weights_times_the_jacobian() -> None:
    jacobian = torch.randn(5, 9, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    strategy = pcgrad()
    direction = strategy(jacobian)
    weights = strategy.implied_weights()
    assert weights is not None
    assert_close(direction, weights @ jacobian)
