"""UPGrad: Quinton & Rey, 2024, "Jacobian Descent for Multi-Objective Optimization", Eq. 3 (π_J) and Proposition 1.

The projection of Jᵀu onto the dual cone {x : Jx ≥ 0} of the rows is Jᵀv with
v = argmin_{v ≥ u} vᵀGv, G = J Jᵀ (Proposition 1). That quadratic programme has T variables; with
G = RᵀR and x = v − u it is the non-negative least-squares problem min_{x ≥ 0} ‖R x + R u‖², which
Lawson & Hanson's active-set method solves exactly in a few T-dimensional least squares (no solver
to compile; written here because ``scipy.optimize.nnls`` returns wrong answers when rows repeat or oppose).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

import numpy as np
import torch
from pydantic import Field
from torch import Tensor

from mtl_core.weighting.base import GradientStrategy, Jacobian
from mtl_core.weighting.registry import STRATEGIES

NormEps = Annotated[float, Field(ge=0.0, description=(
    "Below this ‖J‖²_F the Gram matrix is treated as zero and the rows are averaged (torchjd uses 1e-4; "
    "0 keeps the method linear under scaling)"))]
RegEps = Annotated[float, Field(ge=0.0, description=(
    "Added to the diagonal of the trace-normalised Gram matrix (torchjd uses 1e-4 for its QP solver; "
    "0 is the exact projection, which keeps the direction non-conflicting)"))]


def gram_matrix(jacobian: Jacobian) -> Tensor:
    """G = J Jᵀ in float64, [T, T]: the T-dimensional problems are solved on it, never on [T, P]."""
    rows = jacobian.detach().to(torch.float64)
    return rows @ rows.T


def dual_cone_weights(gram: Tensor, targets: Tensor, norm_eps: float = 0.0, reg_eps: float = 0.0) -> Tensor:
    """Weights v [K, T] with Jᵀv = π_J(Jᵀu) for each row u of ``targets`` [K, T] (all u ≥ 0).

    Solves min_{v ≥ u} vᵀ G v. The cone {x : Jx ≥ 0} does not change when a row is rescaled, so the
    exact problem (reg_eps = 0) is solved on unit rows: G' = D G D, u' = D⁻¹u, v = D v', D = diag(1/‖g_t‖);
    a zero row constrains nothing and keeps v_t = u_t. With reg_eps > 0 the problem is torchjd's instead:
    Ĝ = G / tr(G) + reg_eps·I. Either way v = u (the plain weighted rows) when tr(G) < norm_eps or is 0.
    """
    matrix = gram.detach().to(torch.float64).cpu().numpy()
    lower = targets.detach().to(torch.float64).cpu().numpy()
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
    return torch.as_tensor(solved, dtype=torch.float64, device=gram.device)


def _solve(matrix: np.ndarray, lower: np.ndarray) -> np.ndarray:
    """argmin_{v ≥ u} vᵀ M v for each row u of ``lower``: with M = RᵀR and x = v − u, min_{x ≥ 0} ‖Rx + Ru‖²."""
    eigenvalues, eigenvectors = np.linalg.eigh(matrix)
    factor = np.sqrt(np.clip(eigenvalues, 0.0, None))[:, None] * eigenvectors.T
    return np.stack([bound + _nonnegative_least_squares(factor, -factor @ bound) for bound in lower])


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


@STRATEGIES.register("upgrad")
class UPGrad(GradientStrategy):
    """Project each task gradient onto the dual cone of all of them, then average the projections.

    direction = (1/T) Σ_i π_J(g_i) = Jᵀ w, w = Σ_i v_i, v_i = argmin_{v ≥ e_i/T} vᵀ Ĝ v (Proposition 1), where
    π_J(x) = argmin_{y : Jy ≥ 0} ‖y − x‖². With reg_eps = 0 every g_t · direction ≥ 0, the map is linear
    under scaling (A(cJ) = c A(J), c > 0) and equals the mean of the rows when no two rows conflict.
    """

    claims = frozenset({"finite", "non_conflicting", "task_order_equivariant", "mean_when_no_conflict"})

    def __init__(self, norm_eps: NormEps = 0.0, reg_eps: RegEps = 0.0) -> None:
        self.norm_eps = norm_eps
        self.reg_eps = reg_eps

    def reset(self) -> None:
        self.weights_: Tensor | None = None

    def aggregate(self, jacobian: Jacobian, rows: Sequence[int] | None = None) -> Tensor:  # [T, P] -> [P]
        n_tasks = len(jacobian)
        targets = torch.eye(n_tasks, dtype=torch.float64) / n_tasks  # row i: u = e_i / T
        weights = dual_cone_weights(gram_matrix(jacobian), targets, self.norm_eps, self.reg_eps).sum(dim=0)
        self.weights_ = weights.to(jacobian.dtype)
        return combine(weights, jacobian)

    def implied_weights(self) -> Tensor | None:
        return self.weights_
