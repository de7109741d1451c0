"""UPGrad: each row projected onto the dual cone of the rows, projections averaged."""

from __future__ import annotations

import pytest
import torch
from torch.testing import assert_close

from mtl_core.errors import ConfigError
from mtl_core.weighting import GradientStrategy, create


def upgrad(**hparams: float) -> GradientStrategy:
    strategy = create("upgrad", **hparams)
    assert isinstance(strategy, GradientStrategy)
    return strategy


def test_two_conflicting_tasks_by_hand() -> None:
    # g1 = (1, 0), g2 = (-2, 1), g1·g2 = -2 < 0.
    # π(g1) = g1 - (g1·g2 / |g2|²) g2 = (1, 0) + 0.4 (-2, 1) = (0.2, 0.4)   [g1·π = 0.2 ≥ 0, g2·π = 0]
    # π(g2) = g2 - (g2·g1 / |g1|²) g1 = (-2, 1) + 2 (1, 0) = (0, 1)         [g1·π = 0, g2·π = 1 ≥ 0]
    # mean = (0.1, 0.7) = 1.5 g1 + 0.7 g2
    strategy = upgrad()
    direction = strategy(torch.tensor([[1.0, 0.0], [-2.0, 1.0]]))
    assert_close(direction, torch.tensor([0.1, 0.7]))
    assert_close(strategy.implied_weights(), torch.tensor([1.5, 0.7]))


def test_rows_without_conflict_are_averaged() -> None:
    jacobian = torch.tensor([[1.0, 0.0, 1.0], [0.0, 2.0, 1.0], [1.0, 1.0, 0.0]])  # all pairwise dots ≥ 0
    assert_close(upgrad()(jacobian), jacobian.mean(dim=0))


def test_direction_conflicts_with_no_task() -> None:
    jacobian = torch.randn(6, 4, generator=torch.Generator().manual_seed(3))
    products = jacobian @ upgrad()(jacobian)
    assert bool((products >= -1e-6 * jacobian.norm(dim=1).max() ** 2).all())


def test_scaling_the_jacobian_scales_the_direction() -> None:
    jacobian = torch.randn(4, 7, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    assert_close(upgrad()(1e-6 * jacobian), 1e-6 * upgrad()(jacobian))


def test_a_tiny_row_still_constrains_the_direction() -> None:
    jacobian = torch.tensor([[1.0, 0.0], [-1e-8, 1e-8]])  # the cone is {x1 ≥ 0, x2 ≥ x1}
    direction = upgrad()(jacobian)
    assert float(direction[1]) >= float(direction[0]) >= 0.0


def test_a_zero_row_changes_nothing_but_the_mean() -> None:
    jacobian = torch.tensor([[1.0, 0.0], [-2.0, 1.0]])
    with_zero = torch.cat([jacobian, torch.zeros(1, 2)])
    assert_close(upgrad()(with_zero), upgrad()(jacobian) * 2 / 3)


def test_torchjd_style_normalisation_averages_a_tiny_jacobian() -> None:
    jacobian = torch.tensor([[1e-3, 0.0], [-2e-3, 1e-3]])  # ‖J‖²_F = 6e-6 < norm_eps: G is treated as 0
    assert_close(upgrad(norm_eps=1e-4, reg_eps=1e-4)(jacobian), jacobian.mean(dim=0))


def test_a_negative_regularisation_is_refused() -> None:
    with pytest.raises(ConfigError, match="strategy.reg_eps"):
        create("upgrad", reg_eps=-1.0)
