"""UPGrad: Quinton & Rey, 2024, "Jacobian Descent for Multi-Objective Optimization", Eq. 3 (π_J) and Proposition 1.

The projection of Jᵀu onto the dual cone {x : Jx ≥ 0} of the rows is Jᵀv with
v = argmin_{v ≥ u} vᵀGv, G = J Jᵀ (Proposition 1). That quadratic programme has T variables; with
G = RᵀR and x = v − u it is the non-negative least-squares problem min_{x ≥ 0} ‖R x + R u‖², which
Lawson & Hanson's active-set method solves exactly in a few T-dimensional least squares
(``_linalg.dual_cone_weights``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

import numpy as np
import torch
from pydantic import Field
from torch import Tensor

from mtl_core.weighting._linalg import combine, dual_cone_weights, gram_matrix
from mtl_core.weighting.base import GradientStrategy, Jacobian, Space
from mtl_core.weighting.registry import STRATEGIES

NormEps = Annotated[float, Field(ge=0.0, description=(
    "Below this ‖J‖²_F the Gram matrix is treated as zero and the rows are averaged (torchjd uses 1e-4; "
    "0 keeps the method linear under scaling)"))]
RegEps = Annotated[float, Field(ge=0.0, description=(
    "Added to the diagonal of the trace-normalised Gram matrix (torchjd uses 1e-4 for its QP solver; "
    "0 is the exact projection, which keeps the direction non-conflicting)"))]


@STRATEGIES.register("upgrad")
class UPGrad(GradientStrategy):
    """Project each task gradient onto the dual cone of all of them, then average the projections.

    direction = (1/T) Σ_i π_J(g_i) = Jᵀ w, w = Σ_i v_i, v_i = argmin_{v ≥ e_i/T} vᵀ Ĝ v (Proposition 1), where
    π_J(x) = argmin_{y : Jy ≥ 0} ‖y − x‖². With reg_eps = 0 every g_t · direction ≥ 0, the map is linear
    under scaling (A(cJ) = c A(J), c > 0) and equals the mean of the rows when no two rows conflict.
    """

    claims = frozenset({"finite", "non_conflicting", "task_order_equivariant", "mean_when_no_conflict"})

    def __init__(self, norm_eps: NormEps = 0.0, reg_eps: RegEps = 0.0, space: Space = "parameters") -> None:
        self.norm_eps = norm_eps
        self.reg_eps = reg_eps
        self.space = space

    def reset(self) -> None:
        self.weights_: Tensor | None = None

    def aggregate(self, jacobian: Jacobian, rows: Sequence[int] | None = None) -> Tensor:  # [T, P] -> [P]
        n_tasks = len(jacobian)
        targets = np.eye(n_tasks) / n_tasks  # row i: u = e_i / T
        solved = dual_cone_weights(gram_matrix(jacobian), targets, self.norm_eps, self.reg_eps)
        weights = torch.from_numpy(solved).sum(dim=0)
        self.weights_ = weights.to(jacobian.dtype)
        return combine(weights, jacobian)

    def implied_weights(self) -> Tensor | None:
        return self.weights_
