"""GradDrop: per-coordinate sign dropout in proportion to the sign purity."""

from __future__ import annotations

import torch
from torch.testing import assert_close

from mtl_core.weighting import GradientStrategy, create


def graddrop(**hparams: object) -> GradientStrategy:
    strategy = create("graddrop", **hparams)
    assert isinstance(strategy, GradientStrategy)
    return strategy


JACOBIAN = torch.tensor([[1.0, -2.0], [3.0, 1.0]])
# column 1: Σ∇ = 4 = Σ|∇|, P = 1 > U always: both (positive) entries kept, 4
# column 2: Σ∇ = −1, Σ|∇| = 3, P = ½(1 − 1/3) = 1/3: U < 1/3 keeps the +1, otherwise the −2


def test_a_pure_column_is_kept_and_a_mixed_one_keeps_one_sign_by_hand() -> None:
    directions = {tuple(graddrop(seed=seed)(JACOBIAN).tolist()) for seed in range(40)}
    assert directions == {(4.0, 1.0), (4.0, -2.0)}


def test_the_positive_sign_is_kept_with_probability_equal_to_the_purity() -> None:
    strategy = graddrop(seed=0)
    kept_positive = sum(float(strategy(JACOBIAN)[1]) == 1.0 for _ in range(3000))
    assert abs(kept_positive / 3000 - 1 / 3) < 0.03


def test_the_leak_lets_that_fraction_of_every_gradient_through() -> None:
    # leak ½: column 2 is ½(−2 + 1) + ½·(kept entry): 0 or −1.5; column 1 stays 4
    directions = {tuple(graddrop(leak=0.5, seed=seed)(JACOBIAN).tolist()) for seed in range(40)}
    assert directions == {(4.0, 0.0), (4.0, -1.5)}
    assert_close(graddrop(leak=1.0)(JACOBIAN), JACOBIAN.sum(dim=0))


def test_a_column_of_zeros_stays_zero() -> None:
    direction = graddrop()(torch.tensor([[0.0, 1.0], [0.0, -1.0]]))
    assert direction[0] == 0.0 and direction.isfinite().all()


def test_the_same_seed_draws_the_same_signs_and_another_seed_may_not() -> None:
    jacobian = torch.randn(3, 200, generator=torch.Generator().manual_seed(0))
    assert torch.equal(graddrop(seed=5)(jacobian), graddrop(seed=5)(jacobian))
    assert not torch.equal(graddrop(seed=5)(jacobian), graddrop(seed=6)(jacobian))
