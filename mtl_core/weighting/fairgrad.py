"""FairGrad: Ban & Ji, 2024, "Fair Resource Allocation in Multi-Task Learning" (ICML), Eq. 4 / Algorithm 1."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

import numpy as np
import torch
from pydantic import Field
from torch import Tensor

from mtl_core.weighting._linalg import combine, gram_matrix
from mtl_core.weighting.base import GradientStrategy, Jacobian, Space
from mtl_core.weighting.registry import STRATEGIES

MAX_NEWTON_STEPS = 100
ESCAPE = 1e6  # weights grown this many times past their start: no solution (rows cancel out)


def fair_weights(gram: np.ndarray, alpha: float) -> np.ndarray:
    """w > 0 [T] solving G w = w^(−1/α), the stationary point of the strictly convex
    f(w) = ½ wᵀGw − Σ_t φ(w_t), φ(w) = log w (α = 1) or w^(1−1/α) / (1 − 1/α), found by damped Newton.

    Newton runs on z = w / s, s_t = G_tt^(−α/(α+1)) (the solution when the rows are orthogonal), so rows of
    very different norms stay well conditioned. There is no solution when some w ≥ 0, w ≠ 0 has Jᵀw = 0
    (a zero row, or rows that cancel out, such as g and −g): f then decreases without end along w, whose
    tasks' weights grow without bound. Those tasks (z grown past √ESCAPE once some z passes ESCAPE) get
    weight 0 and the others are solved again, so the direction stays finite and order-free.
    """
    weights = np.zeros(len(gram))
    keep = np.diag(gram) > 0.0
    while keep.any():
        sub = gram[np.ix_(keep, keep)]
        scale = np.diag(sub) ** (-alpha / (alpha + 1.0))
        z = _newton(scale[:, None] * sub * scale[None, :], scale, alpha)
        if z.max() <= ESCAPE:
            weights[keep] = scale * z
            break
        keep[np.flatnonzero(keep)[z > np.sqrt(ESCAPE)]] = False
    return weights


def _newton(scaled: np.ndarray, scale: np.ndarray, alpha: float) -> np.ndarray:
    """Minimise f(z) = ½ zᵀ(SGS)z − Σ φ(s_t z_t) over z > 0 from z = 1 (stops once some z_t > ESCAPE)."""
    z = np.ones(len(scale))
    for _ in range(MAX_NEWTON_STEPS):
        w = scale * z
        gradient = scaled @ z - scale * w ** (-1.0 / alpha)
        hessian = scaled + np.diag(scale**2 * w ** (-1.0 / alpha - 1.0) / alpha)
        step = -np.linalg.solve(hessian, gradient)
        decrement = -float(gradient @ step)  # ≈ 2 (f(z) − min f)
        if decrement <= 1e-24 or z.max() > ESCAPE:
            break
        moved = _line_search(z, step, gradient, scaled, scale, alpha, quadratic=decrement < 1e-8)
        if moved is None:
            break  # no decrease left above round-off
        z = moved
    return z


def _line_search(z: np.ndarray, step: np.ndarray, gradient: np.ndarray, scaled: np.ndarray,
                 scale: np.ndarray, alpha: float, quadratic: bool) -> np.ndarray | None:
    """Backtracking (Armijo, halving) from the largest step that keeps z > 0, capped at 1.

    Close to the solution (``quadratic``) the full Newton step is taken: f's decrease there is below round-off.
    """
    shrinking = step < 0
    size = min(1.0, 0.99 * float(np.min(-z[shrinking] / step[shrinking]))) if shrinking.any() else 1.0
    if quadratic and size == 1.0:
        return z + step
    start, slope = _objective(z, scaled, scale, alpha), float(gradient @ step)
    for _ in range(60):
        candidate = z + size * step
        if _objective(candidate, scaled, scale, alpha) <= start + 0.25 * size * slope:
            return candidate
        size *= 0.5
    return None


def _objective(z: np.ndarray, scaled: np.ndarray, scale: np.ndarray, alpha: float) -> float:
    w = scale * z
    utility = np.log(w) if alpha == 1.0 else w ** (1.0 - 1.0 / alpha) / (1.0 - 1.0 / alpha)
    return float(0.5 * z @ scaled @ z - utility.sum())


@STRATEGIES.register("fairgrad")
class FairGrad(GradientStrategy):
    """Weigh the tasks so that the update is α-fair: each task's gain g_tᵀd is w_t^(−1/α).

    Solve G w = w^(−1/α), w > 0 (G = J Jᵀ; α = 1: proportional fairness, α → ∞: max-min fairness),
    direction = wᵀJ. At the solution every task gains g_tᵀd = w_t^(−1/α) > 0.
    """

    claims = frozenset({"finite", "task_order_equivariant"})

    def __init__(
        self,
        alpha: Annotated[float, Field(gt=0.0, description=(
            "α of α-fairness: 1 is proportional fairness, larger values move towards max-min fairness"))] = 1.0,
        space: Space = "parameters",
    ) -> None:
        self.alpha = alpha
        self.space = space

    def reset(self) -> None:
        self.weights_: Tensor | None = None

    def aggregate(self, jacobian: Jacobian, rows: Sequence[int] | None = None) -> Tensor:  # [T, P] -> [P]
        weights = torch.as_tensor(fair_weights(gram_matrix(jacobian), self.alpha))
        self.weights_ = weights.to(device=jacobian.device, dtype=jacobian.dtype)
        return combine(weights.to(jacobian.device), jacobian)

    def implied_weights(self) -> Tensor | None:
        return self.weights_
