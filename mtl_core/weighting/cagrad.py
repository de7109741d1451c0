"""CAGrad: Liu et al., 2021, "Conflict-Averse Gradient Descent for Multi-task Learning" (NeurIPS), Algorithm 1 and its dual, Eq. (4)."""

from __future__ import annotations

from collections.abc import Sequence
import math
from typing import Annotated, Literal

import numpy as np
import torch
from pydantic import Field
from torch import Tensor

from mtl_core.weighting._linalg import Gram, Vector, dual_cone_weights, gram_matrix, kkt_matrix, solve, wolfe
from mtl_core.weighting.base import GradientStrategy, Jacobian, Space
from mtl_core.weighting.registry import STRATEGIES

_FLAT = 1e-7  # the bisection's floor on ρ = ‖g_w‖ (G scaled to max diagonal 1)


def cagrad_weights(gram: Gram, c: float) -> Vector:
    """Weights x of the primal optimum d = xᵀJ of max_{‖d − g0‖ ≤ c‖g0‖} min_t g_t · d.

    Where the dual optimum has g_w ≠ 0, d = g0 + (√φ/‖g_w‖) g_w: x = 1/T + √φ w_t/‖g_w‖, √φ = c‖g0‖.
    Where g_w = 0 (0 is in the hull of the rows: a weakly Pareto-stationary point) that formula has no
    limit and the optimal value is 0: every d of the ball with J d ≥ 0 is optimal, and the one the
    Lagrangian picks as its multiplier goes to 0 is the nearest to g0, π_J(g0), the projection of the
    mean onto the dual cone {d : J d ≥ 0}. It lies in the ball whenever the value is 0, and always when
    c ≥ 1 (‖π_J(g0) − g0‖ ≤ ‖0 − g0‖). A computed g_w of round-off size points anywhere, so the formula's
    d is kept only while it conflicts with no task; otherwise π_J(g0) replaces it when it is feasible and
    better: for c ≥ 1 the optimum is never conflicting (d = 0 is in the ball), so a conflict proves the
    formula's d is not the optimum while π_J(g0) meets every task at ≥ 0.

    >>> cagrad_weights(np.array([[1.0]]), 0.5).tolist()  # one task: d = g + 0.5 g
    [1.5]
    >>> cagrad_weights(np.array([[1.0, -1.0], [-1.0, 1.0]]), 1.0).tolist()  # opposite rows: d = 0
    [0.5, 0.5]
    """
    size = len(gram)
    mean = np.full(size, 1.0 / size)
    top = float(np.max(np.diag(gram)))
    if top <= 0.0:
        return mean
    scaled = gram / top  # the weights do not depend on the overall scale
    radius = c * math.sqrt(max(float(mean @ scaled @ mean), 0.0))
    formula = None
    if radius > 1e-12:  # a smaller ball is its centre g0 (the dual is ill-conditioned there)
        dual = dual_weights(scaled, scaled @ mean, radius)
        norm = math.sqrt(max(float(dual @ scaled @ dual), 0.0))
        formula = mean + radius / norm * dual if norm > 0.0 else None
    candidate = mean if formula is None else formula
    worst = float(np.min(scaled @ candidate))
    if worst >= 0.0:
        return candidate
    projected = _projected_mean(scaled, mean)
    offset = projected - mean
    feasible = c >= 1.0 or float(offset @ scaled @ offset) <= radius * radius
    return projected if feasible and float(np.min(scaled @ projected)) > worst else candidate


def _projected_mean(gram: Gram, mean: Vector) -> Vector:
    """Weights of π_J(g0), the projection of the mean onto the dual cone (UPGrad's Proposition 1)."""
    return dual_cone_weights(gram, mean[None, :])[0]


def dual_weights(gram: Gram, projections: Vector, radius: float) -> Vector:
    """w* = argmin_{w ∈ Δ} wᵀb + r ‖g_w‖ with b_t = g_t · g0 (G scaled to max diagonal 1).

    r‖x‖ = min_ρ>0 r(‖x‖²/ρ + ρ)/2, so for a fixed ρ the problem is the nearest point of the hull
    of the rows to −(ρ/r) g0 (solved exactly by Wolfe's algorithm), and the optimum has ρ = ‖g_w‖.
    On a fixed support w(ρ) is affine in ρ, so ρ² = ‖g_w(ρ)‖² is a quadratic: its root is exact
    once the support is right; a bisection bracket guards the search.
    """
    low, high, rho = 0.0, 1.0 + 1e-9, 0.5
    weights = np.full(len(gram), 1.0 / len(gram))
    for _ in range(100):
        weights, corral = _nearest(gram, projections, radius, rho)
        gap = rho * rho - float(weights @ gram @ weights)
        root = _support_root(gram, projections, radius, corral)
        settled = root is not None and abs(root - rho) <= 1e-10 * rho
        if settled or abs(gap) <= 1e-10 * rho * rho + 1e-15 or high < _FLAT:
            return weights
        low, high = (rho, high) if gap < 0 else (low, rho)
        rho = root if root is not None and low < root < high else ((low + high) / 2 if low > 0 else high / 8)
    return weights


def _nearest(gram: Gram, projections: Vector, radius: float, rho: float) -> tuple[Vector, list[int]]:
    """Weights (and support) of the point of the hull nearest to −k g0, k = ρ/r: Wolfe on the shifted Gram."""
    k = rho / radius
    mean_norm2 = float(projections.mean())  # ‖g0‖² = mean_t g_t · g0
    shifted = gram + k * (projections[:, None] + projections[None, :]) + k * k * mean_norm2
    return wolfe(shifted)


def _support_root(gram: Gram, projections: Vector, radius: float, corral: list[int]) -> float | None:
    """The ρ > 0 with ρ² = ‖g_w(ρ)‖², w(ρ) = w0 + ρ w1 the affine optimum on ``corral`` (None if none)."""
    system = kkt_matrix(gram, corral)
    size = len(corral)
    right = np.zeros((size + 1, 2))
    right[size, 0] = 1.0
    right[:size, 1] = -projections[corral] / radius
    both = solve(system, right)[:size]
    sub = gram[np.ix_(corral, corral)]
    a0, a1, a2 = (float(both[:, p] @ sub @ both[:, q]) for p, q in ((0, 0), (0, 1), (1, 1)))
    quadratic = 1.0 - a2  # (1 − a2) ρ² − 2 a1 ρ − a0 = 0
    if abs(quadratic) <= 1e-15:
        roots = [-a0 / (2 * a1)] if a1 != 0 else []
    else:
        disc = a1 * a1 + quadratic * a0
        roots = [(a1 + sign * math.sqrt(disc)) / quadratic for sign in (1.0, -1.0)] if disc >= 0 else []
    positive = [root for root in roots if root > 0]
    return min(positive) if positive else None


@STRATEGIES.register("cagrad")
class CAGrad(GradientStrategy):
    """Move towards the mean gradient while raising the worst task's improvement, within a ball around it.

    d = g0 + (√φ / ‖g_w‖) g_w with g0 = mean_t g_t, √φ = c ‖g0‖ and
    w = argmin_{w ∈ Δ} g_wᵀ g0 + √φ ‖g_w‖, g_w = Σ_t w_t g_t (Algorithm 1, solved exactly on the
    T-dimensional simplex with the Gram matrix). Where 0 is in the hull of the gradients g_w = 0 and
    d = π_J(g0), the mean projected onto {d : J d ≥ 0} (see ``cagrad_weights``); with c ≥ 1 no task
    conflicts with d. ``rescale`` follows the authors' code: 0 returns d, 1 returns d / (1 + c²)
    (their default), 2 returns d / (1 + c).
    """

    claims = frozenset({"finite", "task_order_equivariant"})
    claim_settings = ({"c": 1.0}, {"c": 2.0})

    def __init__(
        self,
        c: Annotated[float, Field(ge=0.0, description="radius of the ball around the mean gradient, × ‖g0‖")] = 0.4,
        rescale: Annotated[Literal[0, 1, 2], Field(
            description="divide the update by 1 (0), 1 + c² (1, the authors' default) or 1 + c (2)")] = 1,
        space: Space = "parameters",
    ) -> None:
        self.c = c
        self.rescale = rescale
        self.space = space

    def claims_held(self) -> frozenset[str]:
        """With c ≥ 1 the ball holds d = 0, so the optimum meets every task at ≥ 0: non-conflicting."""
        return self.claims | {"non_conflicting"} if self.c >= 1.0 else self.claims

    def reset(self) -> None:
        self.weights_: Tensor | None = None

    def aggregate(self, jacobian: Jacobian, rows: Sequence[int] | None = None) -> Tensor:
        divisor = (1.0, 1.0 + self.c**2, 1.0 + self.c)[self.rescale]
        weights = torch.from_numpy(cagrad_weights(gram_matrix(jacobian), self.c) / divisor).to(jacobian)
        self.weights_ = weights
        return weights @ jacobian

    def implied_weights(self) -> Tensor | None:
        return self.weights_
