"""Aligned-MTL: Senushkin et al., 2023, "Independent Component Alignment for Multi-Task Learning" (CVPR), Algorithm 1."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Literal

import torch
from pydantic import Field
from torch import Tensor

from mtl_core.weighting._linalg import combine, gram_matrix
from mtl_core.weighting.base import GradientStrategy, Jacobian, Space
from mtl_core.weighting.registry import STRATEGIES

ScaleMode = Annotated[Literal["min", "median", "rmse"], Field(description=(
    "σ² of the aligned system: the smallest retained eigenvalue of J Jᵀ (the paper's choice), their median, "
    "or their mean"))]


def balance_transformation(gram: Tensor, scale_mode: str, eps: float) -> Tensor:
    """B = σ V Σ⁻¹ Vᵀ [T, T] over the R eigenpairs of G = J Jᵀ above max(λ)·T·eps (the paper's rank rule).

    Σ = diag(√λ_1, …, √λ_R), σ = √λ_R for "min". The rows of Bᵀ J (= (J B)ᵀ in the paper's column
    convention) are orthogonal with equal norm σ: the aligned, condition-number-one gradient system.
    With no eigenvalue above the tolerance (J = 0), B = I.
    """
    eigenvalues, eigenvectors = torch.linalg.eigh(gram)
    tolerance = eigenvalues.max() * len(gram) * eps
    kept = eigenvalues > tolerance
    if not bool(kept.any()):
        return torch.eye(len(gram), dtype=gram.dtype, device=gram.device)
    values, vectors = eigenvalues[kept], eigenvectors[:, kept]
    if scale_mode == "min":
        scale = values.min()
    elif scale_mode == "median":
        scale = values.median()
    else:
        scale = values.mean()
    return scale.sqrt() * (vectors / values.sqrt()) @ vectors.T


@STRATEGIES.register("aligned_mtl")
class AlignedMTL(GradientStrategy):
    """Align the task gradients into an orthogonal system of equal-norm components, then sum them.

    Algorithm 1: G = J Jᵀ = V Λ Vᵀ, B = √λ_R V Σ⁻¹ Vᵀ (R retained eigenpairs, Σ = Λ^½),
    aligned rows Ĝ = Bᵀ J, direction = Ĝᵀ ω with ω = 1 (the official code sums the aligned
    gradients; torchjd's default pref_vector 1/T gives this divided by T). Implied weights w = B ω.
    """

    claims = frozenset({"finite", "task_order_equivariant"})

    def __init__(self, scale_mode: ScaleMode = "min", space: Space = "parameters") -> None:
        self.scale_mode = scale_mode
        self.space = space

    def reset(self) -> None:
        self.weights_: Tensor | None = None

    def aggregate(self, jacobian: Jacobian, rows: Sequence[int] | None = None) -> Tensor:  # [T, P] -> [P]
        eps = torch.finfo(jacobian.dtype).eps  # the rank rule of the paper's code, in the Jacobian's precision
        transform = balance_transformation(torch.from_numpy(gram_matrix(jacobian)), self.scale_mode, eps)
        weights = transform @ torch.ones(len(jacobian), dtype=transform.dtype, device=transform.device)
        self.weights_ = weights.to(jacobian.dtype)
        return combine(weights, jacobian)

    def implied_weights(self) -> Tensor | None:
        return self.weights_
