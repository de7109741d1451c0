"""Aligned-MTL: the gradient system made orthogonal with equal singular values, then summed."""

from __future__ import annotations

import math

import torch
from torch.testing import assert_close

from mtl_core.weighting import GradientStrategy, create


def aligned(**hparams: str) -> GradientStrategy:
    strategy = create("aligned_mtl", **hparams)
    assert isinstance(strategy, GradientStrategy)
    return strategy


def test_orthogonal_rows_by_hand() -> None:
    # G = J Jᵀ = diag(1, 4): λ = (4, 1), V = I, σ = √λ_min = 1, B = σ V Σ⁻¹ Vᵀ = diag(1/1, 1/2).
    # Aligned rows Bᵀ J = (1, 0) and (0, 1); their sum is (1, 1), w = B 1 = (1, 0.5).
    strategy = aligned()
    direction = strategy(torch.tensor([[1.0, 0.0], [0.0, 2.0]]))
    assert_close(direction, torch.tensor([1.0, 1.0]))
    assert_close(strategy.implied_weights(), torch.tensor([1.0, 0.5]))


def test_collinear_rows_keep_the_one_retained_component() -> None:
    # J = [[1, 1], [2, 2]]: G = [[2, 4], [4, 8]], λ = (10, 0); rank 1, v = (1, 2)/√5.
    # B = √10 · v (1/√10) vᵀ = v vᵀ = [[0.2, 0.4], [0.4, 0.8]], w = B 1 = (0.6, 1.2),
    # direction = 0.6 (1, 1) + 1.2 (2, 2) = (3, 3).
    direction = aligned()(torch.tensor([[1.0, 1.0], [2.0, 2.0]]))
    assert_close(direction, torch.tensor([3.0, 3.0]))


def test_median_scale_by_hand() -> None:
    # Three orthogonal rows of norms 1, 2, 3: λ = (9, 4, 1), median 4, σ = 2; aligned rows have norm 2.
    jacobian = torch.diag(torch.tensor([1.0, 2.0, 3.0]))
    assert_close(aligned(scale_mode="median")(jacobian), torch.tensor([2.0, 2.0, 2.0]))


def test_aligned_rows_are_orthogonal_with_equal_norms() -> None:
    jacobian = torch.randn(3, 8, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    strategy = aligned()
    strategy(jacobian)
    gram = jacobian @ jacobian.T
    eigenvalues, eigenvectors = torch.linalg.eigh(gram)
    transform = math.sqrt(eigenvalues.min()) * (eigenvectors / eigenvalues.sqrt()) @ eigenvectors.T
    aligned_rows = transform.T @ jacobian
    assert_close(aligned_rows @ aligned_rows.T, eigenvalues.min() * torch.eye(3, dtype=torch.float64))
    assert_close(strategy.implied_weights(), (transform @ torch.ones(3, dtype=torch.float64)))


def test_a_zero_jacobian_gives_a_zero_direction() -> None:
    assert_close(aligned()(torch.zeros(3, 4)), torch.zeros(4))
