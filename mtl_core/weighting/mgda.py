"""MGDA: Sener & Koltun, 2018, "Multi-Task Learning as Multi-Objective Optimization", Eq. (3) and Sec. 3.3 (MGDA-UB).

The min-norm point of the convex hull of the task gradients is found exactly with Wolfe's (1976)
nearest-point algorithm on the Gram matrix G = J Jᵀ [T, T], instead of the paper's Frank-Wolfe
iterations (Algorithm 2), which only approach it (``_linalg.min_norm_weights``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Literal

import numpy as np
import torch
from pydantic import Field
from torch import Tensor

from mtl_core.weighting._linalg import gram_matrix, min_norm_weights
from mtl_core.weighting.base import GradientStrategy, Jacobian, Space
from mtl_core.weighting.registry import STRATEGIES

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
        space: Space = "parameters",
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
