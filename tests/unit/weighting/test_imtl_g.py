"""IMTL-G: equal projections of the update onto every unit task gradient."""

from __future__ import annotations

import torch
from torch.testing import assert_close

from mtl_core.weighting import GradientStrategy, create


def imtl_g() -> GradientStrategy:
    strategy = create("imtl_g")
    assert isinstance(strategy, GradientStrategy)
    return strategy


def test_two_orthogonal_tasks_by_hand() -> None:
    # g1 = (1, 0), g2 = (0, 2): D = g1 − g2 = (1, −2), U = u1 − u2 = (1, −1), g1 Uᵀ = 1, D Uᵀ = 3: α2 = 1/3, α1 = 2/3
    strategy = imtl_g()
    direction = strategy(torch.tensor([[1.0, 0.0], [0.0, 2.0]]))
    assert_close(direction, torch.tensor([2 / 3, 2 / 3]))  # projections on e1 and e2: both 2/3
    assert_close(strategy.implied_weights(), torch.tensor([2 / 3, 1 / 3]))


def test_it_equals_the_papers_closed_form_for_independent_rows() -> None:
    jacobian = torch.randn(4, 7, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    units = jacobian / jacobian.norm(dim=1, keepdim=True)
    differences, unit_differences = jacobian[0] - jacobian[1:], units[0] - units[1:]  # D, U: [T−1, P]
    rest = jacobian[0] @ unit_differences.T @ torch.linalg.inv(differences @ unit_differences.T)
    alpha = torch.cat([1 - rest.sum().reshape(1), rest])
    strategy = imtl_g()
    assert_close(strategy(jacobian), alpha @ jacobian)
    assert_close(strategy.implied_weights(), alpha)


def test_the_projections_on_the_unit_gradients_are_equal_and_the_weights_sum_to_one() -> None:
    jacobian = torch.randn(5, 12, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    jacobian[2] *= 1e6  # scales far apart stay exact: the cosine matrix is inverted, not G
    strategy = imtl_g()
    projections = (jacobian / jacobian.norm(dim=1, keepdim=True)) @ strategy(jacobian)
    assert_close(projections, projections[0].expand(5))
    weights = strategy.implied_weights()
    assert weights is not None and abs(float(weights.sum()) - 1) < 1e-12


def test_opposite_gradients_give_no_update_and_a_zero_gradient_no_weight() -> None:
    assert_close(imtl_g()(torch.tensor([[1.0, 2.0], [-3.0, -6.0]])), torch.zeros(2))
    strategy = imtl_g()
    assert_close(strategy(torch.tensor([[1.0, 0.0], [0.0, 0.0], [0.0, 2.0]])), torch.tensor([2 / 3, 2 / 3]))
    assert_close(strategy.implied_weights(), torch.tensor([2 / 3, 0.0, 1 / 3]))
