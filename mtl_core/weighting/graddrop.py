"""GradDrop: Chen et al., 2020, "Just Pick a Sign: Optimizing Deep Multitask Models with Gradient Sign Dropout", Algorithm 1."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Literal

import torch
from pydantic import Field
from torch import Tensor

from mtl_core.limits import MAX_SEED
from mtl_core.weighting.base import GradientStrategy, Jacobian, Space
from mtl_core.weighting.registry import STRATEGIES


@STRATEGIES.register("graddrop")
class GradDrop(GradientStrategy):
    """Per coordinate, keep only the gradients of one sign, chosen at random in proportion to its purity.

    P = ½(1 + Σ_i ∇_i / Σ_i |∇_i|) per coordinate (f = identity), U ~ Uniform(0, 1) per coordinate,
    M_i = 1[P > U]·1[∇_i > 0] + 1[P < U]·1[∇_i < 0], and the direction is
    Σ_i (ℓ + (1 − ℓ) M_i) ∇_i with the leak ℓ (Algorithm 1, lines 10–15, one leak for every task).
    The paper places GradDrop at the shared activations: ``space = "representation"`` does that
    (without the batch-separated sign correction, which needs the activations themselves).
    """

    claims = frozenset({"finite"})

    def __init__(
        self,
        leak: Annotated[float, Field(ge=0.0, le=1.0, description=(
            "fraction of every task's gradient that always passes (0: pure sign dropout, 1: plain sum)"))] = 0.0,
        seed: Annotated[int, Field(ge=0, le=MAX_SEED, description="seed of the uniform draws that pick the sign")] = 0,
        space: Space = "parameters",
    ) -> None:
        self.leak = leak
        self.seed = seed
        self.space = space

    def reset(self) -> None:
        self.generator_ = torch.Generator().manual_seed(self.seed)

    def aggregate(self, jacobian: Jacobian, rows: Sequence[int] | None = None) -> Tensor:
        # Per coordinate only two sums are needed, Σ_i ∇_i and Σ_i |∇_i|: the positive entries sum to half their
        # sum plus half their magnitude, the negative ones to half the difference; no [T, P] mask is multiplied
        total = jacobian.sum(dim=0)  # [P]
        magnitude = jacobian.abs().sum(dim=0)  # [P], Σ_i |∇_i|
        purity = 0.5 * (1.0 + total / magnitude)
        purity = torch.where(magnitude > 0, purity, torch.full_like(purity, 0.5))  # all-zero column: nothing to keep
        uniform = torch.rand(purity.shape, generator=self.generator_, dtype=jacobian.dtype).to(jacobian.device)
        sign = (purity > uniform).to(total.dtype) - (purity < uniform).to(total.dtype)  # +1 keep positive, −1 negative
        kept = 0.5 * (sign * magnitude + sign.abs() * total)  # Σ_i M_i ∇_i
        return kept if self.leak == 0.0 else self.leak * total + (1.0 - self.leak) * kept
