"""Linear algebra shared by the Gram-based strategies: the Gram matrix and two exact T-dimensional solvers.

``gram_matrix`` gives G = J Jᵀ [T, T] in float64 on the CPU; every solver here works on it and never on
the [T, P] Jacobian. ``min_norm_weights`` (Wolfe's 1976 nearest-point algorithm) finds the min-norm point
of the hull of the rows (MGDA, CAGrad, Nash-MTL). ``dual_cone_weights`` projects onto the dual cone
{x : Jx ≥ 0} (Quinton & Rey, 2024, Proposition 1: UPGrad, DualProj, CAGrad) by Lawson & Hanson's
active-set non-negative least squares, written here because ``scipy.optimize.nnls`` returns wrong
answers when rows repeat or oppose. ``combine`` turns weights into the direction wᵀJ.
"""

from __future__ import annotations

from typing import TypeAlias

import numpy as np
import torch
from numpy.typing import NDArray
from torch import Tensor

from mtl_core.weighting.base import Jacobian

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


def dual_cone_weights(gram: Gram, targets: NDArray[np.float64], norm_eps: float = 0.0,
                      reg_eps: float = 0.0) -> NDArray[np.float64]:
    """Weights v [K, T] with Jᵀv = π_J(Jᵀu) for each row u of ``targets`` [K, T] (all u ≥ 0).

    Solves min_{v ≥ u} vᵀ G v. The cone {x : Jx ≥ 0} does not change when a row is rescaled, so the
    exact problem (reg_eps = 0) is solved on unit rows: G' = D G D, u' = D⁻¹u, v = D v', D = diag(1/‖g_t‖);
    a zero row constrains nothing and keeps v_t = u_t. With reg_eps > 0 the problem is torchjd's instead:
    Ĝ = G / tr(G) + reg_eps·I. Either way v = u (the plain weighted rows) when tr(G) < norm_eps or is 0.

    >>> dual_cone_weights(np.array([[1.0, -2.0], [-2.0, 9.0]]), np.array([[0.5, 0.5]])).tolist()  # g_1 · d = 0
    [[1.0, 0.5]]
    """
    matrix = np.asarray(gram, dtype=np.float64)
    lower = np.asarray(targets, dtype=np.float64)
    trace = float(np.trace(matrix))
    if trace <= 0.0 or trace < norm_eps:
        solved = lower.copy()
    elif reg_eps > 0.0:
        solved = _solve(matrix / trace + reg_eps * np.eye(len(matrix)), lower)
    else:
        norms = np.sqrt(np.clip(np.diag(matrix), 0.0, None))
        keep = norms > 0.0
        unit = matrix[np.ix_(keep, keep)] / np.outer(norms[keep], norms[keep])
        solved = lower.copy()
        solved[:, keep] = _solve(unit, lower[:, keep] * norms[keep]) / norms[keep]
    return solved


def _solve(matrix: np.ndarray, lower: np.ndarray) -> np.ndarray:
    """argmin_{v ≥ u} vᵀ M v for each row u of ``lower``: with M = RᵀR and x = v − u, min_{x ≥ 0} ‖Rx + Ru‖².

    All rows are first solved together on the normal equations (``_solve_together``); a row whose answer does
    not meet the optimality conditions to round-off (a singular or ill-conditioned passive set) is solved again
    on its own by the active-set method on the factor R, which copes with any M.
    """
    solved, settled = _solve_together(matrix, lower)
    if settled.all():
        return solved
    eigenvalues, eigenvectors = np.linalg.eigh(matrix)
    factor = np.sqrt(np.clip(eigenvalues, 0.0, None))[:, None] * eigenvectors.T
    for row in np.flatnonzero(~settled):
        solved[row] = lower[row] + _nonnegative_least_squares(factor, -factor @ lower[row])
    return solved


_KKT = 1e-11  # optimality conditions are met when every multiplier is ≥ −_KKT·scale, and ≤ _KKT·scale where x > 0


def _solve_together(matrix: np.ndarray, lower: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lawson & Hanson's active-set steps for every row of ``lower`` at once, each passive set's least squares
    by its normal equations (M_PP x_P = −(M u)_P, one batched solve); returns v and which rows provably reached
    the optimum (KKT: M v ≥ 0, (M v)_i = 0 where x_i > 0, x ≥ 0), so that the others can be solved again."""
    count, size = lower.shape
    shift = lower @ matrix  # row k: (M u_k)ᵀ, M symmetric
    solution, passive = np.zeros_like(lower), np.zeros(lower.shape, dtype=bool)
    moving = np.ones(count, dtype=bool)
    try:
        for _ in range(3 * size + 10):
            gradient = -(shift + solution @ matrix)  # −½ ∇ of (u + x)ᵀ M (u + x)
            entering = np.where(passive, -np.inf, gradient)
            moving &= entering.max(axis=1) > _KKT * _scale(matrix, lower + solution)
            if not moving.any():
                break
            passive[moving, entering[moving].argmax(axis=1)] = True
            solution, passive = _passive_steps(matrix, shift, solution, passive, moving)
    except np.linalg.LinAlgError:
        return lower.copy(), np.zeros(count, dtype=bool)
    solved = lower + solution
    return solved, _optimal(matrix, solved, solution)


def _passive_steps(matrix: np.ndarray, shift: np.ndarray, solution: np.ndarray, passive: np.ndarray,
                   moving: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lawson & Hanson's inner loop for the rows in ``moving``, all at once."""
    stepping = moving.copy()
    for _ in range(solution.shape[1] + 1):
        both = passive[:, :, None] & passive[:, None, :]
        systems = np.where(both, matrix, 0.0) + np.eye(len(matrix)) * ~passive[:, :, None]
        trial = np.linalg.solve(systems, np.where(passive, -shift, 0.0)[:, :, None])[:, :, 0]
        negative = passive & (trial <= 0.0) & stepping[:, None]
        done = stepping & ~negative.any(axis=1)
        solution[done] = trial[done]
        stepping &= ~done
        if not stepping.any():
            break
        for row in np.flatnonzero(stepping):  # step back to x ≥ 0; the blocking variable leaves exactly
            blocked = np.flatnonzero(negative[row])
            ratios = solution[row, blocked] / (solution[row, blocked] - trial[row, blocked])
            solution[row] += float(ratios.min()) * (trial[row] - solution[row])
            solution[row, blocked[ratios.argmin()]] = 0.0
            passive[row] &= solution[row] > 0.0
            solution[row, ~passive[row]] = 0.0
    return solution, passive


def _scale(matrix: np.ndarray, values: np.ndarray) -> np.ndarray:
    """[K] the size of M v for each row v: what a multiplier's round-off is measured against."""
    return np.maximum(np.abs(values) @ np.abs(matrix), 1e-300).max(axis=1)


def _optimal(matrix: np.ndarray, solved: np.ndarray, solution: np.ndarray) -> np.ndarray:
    """[K] whether each row meets the KKT conditions of min_{v ≥ u} vᵀMv to round-off."""
    multipliers = solved @ matrix
    tolerance = _KKT * _scale(matrix, solved)[:, None]
    free = solution > 0.0
    return (np.isfinite(solved).all(axis=1) & (solution >= 0.0).all(axis=1)
            & (multipliers >= -tolerance).all(axis=1) & (np.abs(np.where(free, multipliers, 0.0)) <= tolerance).all(axis=1))


def _nonnegative_least_squares(matrix: np.ndarray, target: np.ndarray) -> np.ndarray:
    """argmin_{x ≥ 0} ‖A x − b‖² by Lawson & Hanson's active-set method (1974, Ch. 23).

    The passive-set least squares are solved for their minimum-norm solution, and a column enters only
    when its gradient clears the round-off level, so duplicate or opposite rows (a singular A) are safe.
    """
    size = matrix.shape[1]
    solution, passive = np.zeros(size), np.zeros(size, dtype=bool)
    tolerance = 10.0 * size * np.finfo(float).eps * max(np.linalg.norm(matrix) * np.linalg.norm(target), 1e-300)
    for _ in range(3 * size + 10):
        gradient = matrix.T @ (target - matrix @ solution)  # −½ ∇‖Ax − b‖²
        entering = np.where(passive, -np.inf, gradient)
        if entering.max() <= tolerance:
            break
        passive[int(entering.argmax())] = True
        solution, passive = _passive_step(matrix, target, solution, passive)
    return solution


def _passive_step(matrix: np.ndarray, target: np.ndarray, solution: np.ndarray,
                  passive: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The inner loop: least squares on the passive columns, stepping back to x ≥ 0 when they go negative."""
    for _ in range(len(solution) + 1):
        trial = np.zeros_like(solution)
        trial[passive] = np.linalg.lstsq(matrix[:, passive], target, rcond=None)[0]
        negative = passive & (trial <= 0.0)
        if not negative.any():
            return trial, passive
        ratios = solution[negative] / (solution[negative] - trial[negative])
        solution = solution + float(ratios.min()) * (trial - solution)
        solution[np.flatnonzero(negative)[ratios.argmin()]] = 0.0  # the blocking variable leaves exactly
        passive = passive & (solution > 0.0)
        solution[~passive] = 0.0
    return solution, passive


def combine(weights: Tensor, jacobian: Jacobian) -> Tensor:
    """wᵀJ [P] in the Jacobian's dtype; in float64 when weights of both signs may cancel each other."""
    if bool((weights >= 0).all()):
        return weights.to(device=jacobian.device, dtype=jacobian.dtype) @ jacobian.detach()
    return (weights.to(torch.float64) @ jacobian.detach().to(torch.float64)).to(jacobian.dtype)
