"""Nash-MTL: Navon et al., 2022, "Multi-Task Learning as a Bargaining Game" (ICML), Algorithm 1 and Theorem 5.4 (Gα = 1/α)."""

from __future__ import annotations

from collections.abc import Sequence
import math
from typing import Annotated

import numpy as np
import torch
from pydantic import Field
from torch import Tensor

from mtl_core.weighting._linalg import Gram, Vector, gram_matrix, min_norm_weights
from mtl_core.weighting.base import GradientStrategy, Jacobian, Space, task_rows
from mtl_core.weighting.registry import STRATEGIES

_NO_AGREEMENT = 1e-12  # ‖min-norm point of the unit gradients‖² below this: no direction improves every task


def nash_weights(gram: Gram, optim_niter: int = 20) -> Vector:
    """α > 0 with G α = 1/α (element-wise), by Newton's method; 0 for zero rows, all 0 when no agreement exists.

    With α_t = β_t / ‖g_t‖ the system becomes C β = 1/β on the cosine matrix C, so the direction does
    not depend on the scale of each gradient. β minimises the strictly convex, self-concordant
    f(β) = ½ βᵀCβ − Σ log β_t, whose damped Newton steps stay positive; the bargaining solution exists
    exactly when 0 is outside the hull of the unit gradients (checked with the min-norm point).

    >>> nash_weights(np.array([[1.0, 0.0], [0.0, 4.0]])).round(12).tolist()  # orthogonal: α_t = 1/‖g_t‖
    [1.0, 0.5]
    """
    norms = np.sqrt(np.clip(np.diag(gram), 0.0, None))
    kept = np.flatnonzero(norms > 0.0)
    alpha = np.zeros(len(gram))
    if len(kept) == 0:
        return alpha
    cosines = gram[np.ix_(kept, kept)] / np.outer(norms[kept], norms[kept])
    closest = min_norm_weights(cosines)
    if float(closest @ cosines @ closest) <= _NO_AGREEMENT:
        return alpha
    alpha[kept] = _newton(cosines, optim_niter) / norms[kept]
    return alpha


def _newton(cosines: Gram, optim_niter: int) -> Vector:
    """argmin_{β > 0} ½ βᵀCβ − Σ log β by Newton's method, until the decrement λ² < 1e-18.

    Far from the optimum the full step is taken when it stays positive and lowers f, else the damped
    step 1/(1 + λ) (always inside the domain, f being self-concordant); once λ < ¼, full steps
    converge quadratically.
    """
    size = len(cosines)
    beta = np.full(size, math.sqrt(size / max(float(cosines.sum()), 1e-300)))  # the best multiple of 1
    for _ in range(optim_niter):
        gradient = cosines @ beta - 1.0 / beta
        step = np.linalg.solve(cosines + np.diag(1.0 / beta**2), gradient)
        decrement2 = float(gradient @ step)
        if decrement2 < 1e-18:
            break
        decrement, full = math.sqrt(max(decrement2, 0.0)), beta - step
        if decrement < 0.25 or (bool(np.all(full > 0)) and _barrier(cosines, full) < _barrier(cosines, beta)):
            beta = full
        else:
            beta = beta - step / (1.0 + decrement)
    return beta


def _barrier(cosines: Gram, beta: Vector) -> float:
    """f(β) = ½ βᵀCβ − Σ log β."""
    return 0.5 * float(beta @ cosines @ beta) - float(np.log(beta).sum())


@STRATEGIES.register("nash_mtl")
class NashMTL(GradientStrategy):
    """The Nash bargaining solution among tasks: d = Σ_t α_t g_t with G α = 1/α, so g_t · d = 1/α_t > 0.

    α solves Gα = 1/α (Theorem 5.4), found by Newton's method on the T-dimensional system instead of
    the paper's sequence of convex (cvxpy) approximations. ``update_weights_every`` reuses the last α
    for that many steps, as the authors' code does; ``max_norm`` > 0 clips ‖d‖ as their code does
    (torch.nn.utils.clip_grad_norm_ on the shared parameters, 1.0 by default); 0 turns it off.
    """

    claims = frozenset({"finite", "non_conflicting", "task_order_equivariant"})

    def __init__(
        self,
        optim_niter: Annotated[int, Field(ge=1, description="most Newton steps per solve (the paper: 20 CCP steps)")]
        = 20,
        update_weights_every: Annotated[int, Field(ge=1, description="solve for α every this many steps")] = 1,
        max_norm: Annotated[float, Field(ge=0.0, description="clip the update to this norm (0: no clipping)")] = 1.0,
        space: Space = "parameters",
    ) -> None:
        self.optim_niter = optim_niter
        self.update_weights_every = update_weights_every
        self.max_norm = max_norm
        self.space = space

    def reset(self) -> None:
        self.step_ = 0
        self.alpha_: dict[int, float] = {}  # last α per task of the run
        self.weights_: Tensor | None = None

    def aggregate(self, jacobian: Jacobian, rows: Sequence[int] | None = None) -> Tensor:
        tasks = task_rows(rows, len(jacobian))
        reuse = self.step_ % self.update_weights_every != 0 and all(task in self.alpha_ for task in tasks)
        self.step_ += 1
        if reuse:
            alpha = torch.tensor([self.alpha_[task] for task in tasks], dtype=torch.float64)
        else:
            alpha = torch.from_numpy(nash_weights(gram_matrix(jacobian), self.optim_niter))
            self.alpha_.update(zip(tasks, alpha.tolist(), strict=True))
        weights = alpha.to(jacobian)
        direction = weights @ jacobian
        norm = float(direction.norm())
        if self.max_norm > 0 and norm > self.max_norm:
            weights, direction = weights * (self.max_norm / norm), direction * (self.max_norm / norm)
        self.weights_ = weights
        return direction

    def implied_weights(self) -> Tensor | None:
        return self.weights_
