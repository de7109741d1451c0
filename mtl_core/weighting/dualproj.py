"""DualProj: Quinton & Rey, 2024, "Jacobian Descent for Multi-Objective Optimization", Eq. 3 (π_J) and Proposition 1."""

from __future__ import annotations

from collections.abc import Sequence
import numpy as np
import torch
from torch import Tensor

from mtl_core.weighting._linalg import combine, dual_cone_weights, gram_matrix
from mtl_core.weighting.base import GradientStrategy, Jacobian, Space
from mtl_core.weighting.registry import STRATEGIES
from mtl_core.weighting.upgrad import NormEps, RegEps


@STRATEGIES.register("dualproj")
class DualProj(GradientStrategy):
    """Average the task gradients, then project the mean onto the dual cone of all of them.

    direction = π_J((1/T) Σ_i g_i) = Jᵀ v, v = argmin_{v ≥ 1/T} vᵀ Ĝ v (Proposition 1), where
    π_J(x) = argmin_{y : Jy ≥ 0} ‖y − x‖² and Ĝ is the trace-normalised Gram matrix (+ reg_eps·I).
    """

    claims = frozenset({"finite", "non_conflicting", "task_order_equivariant", "mean_when_no_conflict"})

    def __init__(self, norm_eps: NormEps = 0.0, reg_eps: RegEps = 0.0, space: Space = "parameters") -> None:
        self.norm_eps = norm_eps
        self.reg_eps = reg_eps
        self.space = space

    def reset(self) -> None:
        self.weights_: Tensor | None = None

    def aggregate(self, jacobian: Jacobian, rows: Sequence[int] | None = None) -> Tensor:  # [T, P] -> [P]
        mean = np.full((1, len(jacobian)), 1.0 / len(jacobian))
        weights = torch.from_numpy(dual_cone_weights(gram_matrix(jacobian), mean, self.norm_eps, self.reg_eps)[0])
        self.weights_ = weights.to(jacobian.dtype)
        return combine(weights, jacobian)

    def implied_weights(self) -> Tensor | None:
        return self.weights_
