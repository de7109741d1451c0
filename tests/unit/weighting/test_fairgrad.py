"""FairGrad: weights solving G w = w^(-1/α), direction wᵀJ."""

from __future__ import annotations

import pytest
import torch
from torch.testing import assert_close

from mtl_core.errors import ConfigError
from mtl_core.weighting import GradientStrategy, create


def fairgrad(**hparams: float) -> GradientStrategy:
    strategy = create("fairgrad", **hparams)
    assert isinstance(strategy, GradientStrategy)
    return strategy


def test_orthogonal_rows_by_hand() -> None:
    # G = diag(1, 4), α = 1: w1 = 1/w1 -> w1 = 1; 4 w2 = 1/w2 -> w2 = 1/2; direction = (1, 0) + ½ (0, 2) = (1, 1).
    strategy = fairgrad()
    assert_close(strategy(torch.tensor([[1.0, 0.0], [0.0, 2.0]])), torch.tensor([1.0, 1.0]))
    assert_close(strategy.implied_weights(), torch.tensor([1.0, 0.5]))


def test_alpha_two_by_hand() -> None:
    # G = diag(1, 4), α = 2: w1 = w1^(-1/2) -> w1 = 1; 4 w2 = w2^(-1/2) -> w2 = 4^(-2/3) = 0.3968503;
    # direction = (1, 2 · 0.3968503) = (1, 0.7937005).
    assert_close(fairgrad(alpha=2.0)(torch.tensor([[1.0, 0.0], [0.0, 2.0]])), torch.tensor([1.0, 0.7937005]))


def test_two_conflicting_tasks_by_hand() -> None:
    # G = [[1, -1], [-1, 2]]: (i) w1 - w2 = 1/w1, (ii) -w1 + 2 w2 = 1/w2. Try w1 = √2 w2:
    # (i) w2 (√2 - 1) = 1/(√2 w2) -> w2² = 1/(2 - √2); (ii) w2 (2 - √2) = 1/w2 -> the same w2² = 1/(2 - √2).
    # So w2 = √(1 + 1/√2) = 1.3065630, w1 = √2 w2 = 1.8477591; direction = w1 g1 + w2 g2 = (w1 - w2, w2).
    strategy = fairgrad()
    direction = strategy(torch.tensor([[1.0, 0.0], [-1.0, 1.0]]))
    assert_close(direction, torch.tensor([0.5411961, 1.3065630]))
    assert_close(strategy.implied_weights(), torch.tensor([1.8477591, 1.3065630]))


def test_every_task_gains_as_the_fairness_equation_says() -> None:
    jacobian = torch.randn(5, 12, generator=torch.Generator().manual_seed(7), dtype=torch.float64)
    strategy = fairgrad(alpha=3.0)
    products = jacobian @ strategy(jacobian)
    weights = strategy.implied_weights()
    assert weights is not None
    assert_close(products, weights ** (-1.0 / 3.0))


def test_a_zero_row_gets_weight_zero() -> None:
    strategy = fairgrad()
    direction = strategy(torch.tensor([[1.0, 0.0], [0.0, 0.0], [0.0, 2.0]]))
    assert_close(direction, torch.tensor([1.0, 1.0]))
    assert_close(strategy.implied_weights(), torch.tensor([1.0, 0.0, 0.5]))


def test_rows_that_cancel_still_give_a_finite_direction() -> None:
    direction = fairgrad()(torch.tensor([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0]]))
    assert bool(direction.isfinite().all())
    # No solution: w1 = w2 -> ∞ as g1 and g2 cancel out. They get weight 0; then w3 = 1/|g3| = 1, direction g3.
    assert_close(direction, torch.tensor([0.0, 1.0]))


def test_alpha_must_be_positive() -> None:
    with pytest.raises(ConfigError, match="strategy.alpha"):
        create("fairgrad", alpha=0.0)
