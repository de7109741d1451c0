"""MGDA: Sener & Koltun, 2018, "Multi-Task Learning as Multi-Objective Optimization", Eq. (3) and Sec. 3.3 (MGDA-UB).

The min-norm point of the convex hull of the task gradients is found exactly with Wolfe's (1976)
nearest-point algorithm on the Gram matrix G = J Jᵀ [T, T], instead of the paper's Frank-Wolfe
iterations (Algorithm 2), which only approach it. ``gram_matrix`` and ``min_norm_weights`` are
shared with the other Gram-based methods (CAGrad, Nash-MTL).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Literal, TypeAlias

import numpy as np
import torch
from numpy.typing import NDArray
from pydantic import Field
from torch import Tensor

from mtl_core.weighting.base import GradientStrategy, Jacobian
from mtl_core.weighting.registry import STRATEGIES

Vector: TypeAlias = NDArray[np.float64]  # [T]
Gram: TypeAlias = NDArray[np.float64]  # [T, T], G_ij = g_i · g_j

_GAP = 1e-13  # Wolfe's stopping test: ‖x‖² − min_j x·g_j ≤ _GAP·‖x‖² + _FLOOR (G scaled to max diagonal 1)
_FLOOR = 1e-30
_POSITIVE = 1e-15  # affine weights at or below this leave the corral


def gram_matrix(jacobian: Jacobian) -> Gram:
    """G = J Jᵀ in float64 on the CPU, [T, T] (everything the T-dimensional solvers need)."""
    rows = jacobian.detach().to(torch.float64)
    return (rows @ rows.T).cpu().numpy()


def min_norm_weights(gram: Gram) -> Vector:
    """w = argmin_{w ∈ Δ} wᵀ G w: the weights of the min-norm point of the hull of the rows of J.

    The direction wᵀJ is unique; w need not be when rows are affinely dependent.

    >>> min_norm_weights(np.array([[1.0, -1.0], [-1.0, 4.0]])).round(6).tolist()  # 1D: γ = 5/7
    [0.714286, 0.285714]
    """
    weights, _ = wolfe(gram)
    return weights


def wolfe(gram: Gram) -> tuple[Vector, list[int]]:
    """Wolfe's nearest-point algorithm on a Gram matrix: the weights and the final corral (their support).

    Major cycle: add the point most opposed to x = wᵀJ while the optimality gap is open. Minor cycle:
    move to the affine minimiser of the corral, or as far towards it as stays in the simplex, and drop
    the points that reach weight 0. The result is the exact affine minimiser of the final corral.
    """
    size = len(gram)
    top = float(np.max(np.diag(gram))) if size else 0.0
    if size == 1 or top <= 0.0:
        return np.full(size, 1.0 / max(size, 1)), list(range(size))
    scaled = gram / top
    first = int(np.argmin(np.diag(scaled)))
    weights, corral = np.zeros(size), [first]
    weights[first] = 1.0
    for _ in range(20 * size + 20):
        dots = scaled @ weights
        norm2 = float(weights @ dots)
        candidate = int(np.argmin(dots))
        if norm2 - dots[candidate] <= _GAP * norm2 + _FLOOR or candidate in corral:
            break
        weights, corral, stalled = _minor_cycles(scaled, weights, corral + [candidate])
        if stalled:
            break
    return weights, corral


def _minor_cycles(gram: Gram, weights: Vector, corral: list[int]) -> tuple[Vector, list[int], bool]:
    """Return to a corral whose affine minimiser lies inside it; ``stalled`` when the new point cannot enter."""
    added = corral[-1]
    while True:
        affine = affine_minimizer(gram, corral)
        if bool(np.all(affine > _POSITIVE)):
            result = np.zeros(len(weights))
            result[corral] = affine
            return result, corral, False
        current = weights[corral]
        leaving = affine <= _POSITIVE
        theta = float(np.min(current[leaving] / np.maximum(current[leaving] - affine[leaving], 1e-300)))
        mixed = current + theta * (affine - current)
        kept = [index for index, value in zip(corral, mixed, strict=True) if value > _POSITIVE]
        if added not in kept and theta <= 0.0:
            return weights, [index for index in corral if index != added], True
        weights = np.zeros(len(weights))
        weights[corral] = np.clip(mixed, 0.0, None)
        weights /= weights.sum()
        corral = kept or [int(np.argmax(weights))]


def affine_minimizer(gram: Gram, corral: list[int]) -> Vector:
    """Weights v (Σv = 1, over ``corral``) of the min-norm point of the affine hull of those rows.

    KKT: [G_S 1; 1ᵀ 0] [v; μ] = [0; 1], non-singular when the rows are affinely independent.
    """
    system = kkt_matrix(gram, corral)
    right = np.zeros(len(corral) + 1)
    right[-1] = 1.0
    return solve(system, right)[:-1]


def kkt_matrix(gram: Gram, corral: list[int]) -> NDArray[np.float64]:
    """[G_S 1; 1ᵀ 0] for the rows in ``corral``."""
    size = len(corral)
    system = np.ones((size + 1, size + 1))
    system[:size, :size] = gram[np.ix_(corral, corral)]
    system[size, size] = 0.0
    return system


def solve(system: NDArray[np.float64], right: NDArray[np.float64]) -> NDArray[np.float64]:
    """x with system @ x = right; least squares when the system is singular."""
    try:
        solution = np.linalg.solve(system, right)
    except np.linalg.LinAlgError:
        solution = np.linalg.lstsq(system, right, rcond=None)[0]
    return np.asarray(solution, dtype=np.float64)


@STRATEGIES.register("mgda")
class MGDA(GradientStrategy):
    """The min-norm element of the convex hull of the task gradients: d = αᵀJ, α = argmin_{α∈Δ} ‖αᵀJ‖².

    α solves min_{α ∈ Δ} αᵀ G α with G = J Jᵀ (Sener & Koltun's Eq. 3), exactly (Wolfe's algorithm);
    d · g_t ≥ ‖d‖² ≥ 0 for every task. ``normalization = "l2"`` finds α on the unit gradients
    g_t/‖g_t‖ and applies it to the raw ones, as the authors' code does (the paper itself uses
    "none"); their "loss" and "loss+" normalisations divide by the task losses, which a Jacobian
    does not carry, so they are not offered here. ``space = "representation"`` is MGDA-UB: the
    rows are gradients w.r.t. the shared representation Z, the upper bound of Theorem 1.
    """

    claims = frozenset({"finite", "non_conflicting", "task_order_equivariant", "weights_on_simplex"})

    def __init__(
        self,
        normalization: Annotated[Literal["none", "l2"], Field(
            description="'none': the paper's min-norm point; 'l2': weights found on unit-length task gradients")]
        = "none",
        space: Annotated[Literal["parameters", "representation"], Field(
            description="'representation' is MGDA-UB: gradients w.r.t. the shared representation (cheaper)")]
        = "parameters",
    ) -> None:
        self.normalization = normalization
        self.space = space

    def reset(self) -> None:
        self.weights_: Tensor | None = None

    def aggregate(self, jacobian: Jacobian, rows: Sequence[int] | None = None) -> Tensor:
        gram = gram_matrix(jacobian)
        if self.normalization == "l2":
            norms = np.sqrt(np.diag(gram))
            norms[norms == 0.0] = 1.0  # a zero gradient stays zero
            gram = gram / np.outer(norms, norms)
        weights = torch.from_numpy(min_norm_weights(gram)).to(jacobian)
        self.weights_ = weights
        return weights @ jacobian

    def implied_weights(self) -> Tensor | None:
        return self.weights_
