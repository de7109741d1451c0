"""PCGrad: Yu et al., 2020, "Gradient Surgery for Multi-Task Learning", Algorithm 1 (projecting conflicting gradients)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

import torch
from pydantic import Field
from torch import Tensor

from mtl_core.limits import MAX_SEED
from mtl_core.weighting._linalg import gram_matrix
from mtl_core.weighting.base import GradientStrategy, Jacobian, Space
from mtl_core.weighting.registry import STRATEGIES


@STRATEGIES.register("pcgrad")
class PCGrad(GradientStrategy):
    """Remove from each task gradient its component along any other gradient it conflicts with, then sum.

    For each task i, visiting the others j in a random order: if g_i^PC · g_j < 0 then
    g_i^PC ← g_i^PC − (g_i^PC · g_j / ‖g_j‖²) g_j; the direction is Σ_i g_i^PC. Every g_i^PC is
    kept as coefficients over the original rows (g_i^PC = Σ_k c_ik g_k), so the surgery runs on
    the Gram matrix G = J Jᵀ [T, T] and the direction is (Σ_i c_i)ᵀ J.
    """

    claims = frozenset({"finite", "sum_when_no_conflict"})

    def __init__(
        self,
        seed: Annotated[int, Field(ge=0, le=MAX_SEED, description="seed of the random order in which other tasks are visited")] = 0,
        space: Space = "parameters",
    ) -> None:
        self.seed = seed
        self.space = space

    def reset(self) -> None:
        self.generator_ = torch.Generator().manual_seed(self.seed)
        self.weights_: Tensor | None = None

    def aggregate(self, jacobian: Jacobian, rows: Sequence[int] | None = None) -> Tensor:
        gram = gram_matrix(jacobian).tolist()
        size = len(gram)
        total = [0.0] * size
        for i in range(size):
            coefficients = [0.0] * size  # g_i^PC = Σ_k coefficients[k] g_k
            coefficients[i] = 1.0
            for j in torch.randperm(size, generator=self.generator_).tolist():
                if j == i:
                    continue
                dot = sum(c * row[j] for c, row in zip(coefficients, gram, strict=True))  # g_i^PC · g_j
                if dot < 0.0:  # a conflict implies g_j ≠ 0
                    coefficients[j] -= dot / gram[j][j]
            total = [a + b for a, b in zip(total, coefficients, strict=True)]
        weights = torch.tensor(total, dtype=torch.float64).to(jacobian)
        self.weights_ = weights
        return weights @ jacobian

    def implied_weights(self) -> Tensor | None:
        return self.weights_
