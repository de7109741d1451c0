"""CAGrad against an exact solve of its dual by enumerating supports, and against torchjd's CAGrad.

Exact solve: on a support S the optimality conditions b_S + √φ G_S w/‖g_w‖ = λ 1 give
w ∝ G_S⁻¹(λ1 − b_S) with (λ1 − b)ᵀ G_S⁻¹ (λ1 − b) = φ, a quadratic in λ; the support whose w is
≥ 0 and whose other tasks have ∂_t ≥ λ is the optimum (the problem is convex).

torchjd's CAGrad returns g0 + (√φ/‖g_w‖) g_w, i.e. ``rescale = 0``; our default ``rescale = 1``
(the authors' code) is that divided by 1 + c². torchjd solves the dual with cvxpy's Clarabel
(interior point, optional dependency): at its default tolerances it is accurate to ~2e-4, and with
tolerances tightened to 1e-14 to within 1e-5 of the largest entry (2e-5 allowed here).
"""

from __future__ import annotations

import itertools
import math

import pytest
import torch
from torch.testing import assert_close

from mtl_core.weighting import create
from tests.properties.jacobians import random_matrices

pytestmark = pytest.mark.reference
C = 0.4


def exact_cagrad(jacobian: torch.Tensor, c: float = C) -> torch.Tensor:
    """g0 + (√φ/‖g_w‖) g_w with the dual optimum w found support by support."""
    gram = jacobian @ jacobian.T
    size = len(gram)
    projections = gram.mean(dim=1)  # b_t = g_t · g0
    radius = c * math.sqrt(float(projections.mean()))
    for subset in itertools.chain.from_iterable(itertools.combinations(range(size), k) for k in range(1, size + 1)):
        for weights in support_candidates(gram, projections, radius, list(subset)):
            norm = float(weights @ gram @ weights) ** 0.5
            slopes = projections + radius * gram @ weights / norm  # ∂/∂w_t of g_wᵀg0 + √φ ‖g_w‖
            if bool((slopes >= slopes[list(subset)].max() - 1e-9 * float(gram.abs().max())).all()):
                return (1 / size + radius / norm * weights) @ jacobian
    raise AssertionError("no support satisfies the optimality conditions")


def support_candidates(gram: torch.Tensor, projections: torch.Tensor, radius: float,
                       support: list[int]) -> list[torch.Tensor]:
    sub = gram[support][:, support]
    ones = torch.ones(len(support), dtype=gram.dtype)
    inverse_ones = torch.linalg.solve(sub, ones)
    inverse_b = torch.linalg.solve(sub, projections[support])
    a, b = float(ones @ inverse_ones), float(ones @ inverse_b)
    c = float(projections[support] @ inverse_b) - radius**2
    disc = b * b - a * c
    candidates = []
    for lam in ([(b + sign * math.sqrt(disc)) / a for sign in (1.0, -1.0)] if disc >= 0 else []):
        direction = lam * inverse_ones - inverse_b  # ∝ w_S
        if float(direction.sum()) > 0 and bool((direction >= -1e-12).all()):
            weights = torch.zeros(len(gram), dtype=gram.dtype)
            weights[support] = direction / direction.sum()
            candidates.append(weights)
    return candidates


def test_cagrad_equals_the_exact_dual_solution_on_60_matrices() -> None:
    for jacobian in random_matrices(60, seed=0, max_tasks=6, full_rank=True):
        expected = exact_cagrad(jacobian)
        assert_close(create("cagrad", rescale=0)(jacobian), expected, rtol=1e-5, atol=1e-9)
        assert_close(create("cagrad")(jacobian), expected / (1 + C**2), rtol=1e-5, atol=1e-9)


def test_cagrad_matches_torchjd_after_its_known_rescaling(monkeypatch: pytest.MonkeyPatch) -> None:
    aggregation = pytest.importorskip("torchjd.aggregation")
    cvxpy = pytest.importorskip("cvxpy")
    solve = cvxpy.Problem.solve

    def tight(problem: object, *args: object, **kwargs: object) -> object:
        kwargs.update(tol_gap_abs=1e-14, tol_gap_rel=1e-14, tol_feas=1e-14, tol_ktratio=1e-12, max_iter=500)
        return solve(problem, *args, **kwargs)

    monkeypatch.setattr(cvxpy.Problem, "solve", tight)
    for jacobian in random_matrices(60, seed=1, full_rank=True):
        theirs = aggregation.CAGrad(c=C, norm_eps=1e-12)(jacobian)
        ours = create("cagrad")(jacobian) * (1 + C**2)
        assert_close(ours, theirs, rtol=1e-5, atol=2e-5 * float(theirs.abs().max()))
