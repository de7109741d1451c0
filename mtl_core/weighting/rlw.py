"""RLW: Lin et al., 2022, "Reasonable Effectiveness of Random Weighting: A Litmus Test for Multi-Task Learning" (TMLR), the RLW training step: λ = softmax(λ̃), λ̃ ~ p(λ̃).

At every step the loss weights are λ = softmax(z) with z drawn afresh from p(z): the standard
normal (the paper's default), a uniform on [0, 1], or a Dirichlet(1, …, 1) — the paper's continuous
variants, each normalised by softmax as in the authors' LibMTL.
"""

from __future__ import annotations

from typing import Annotated, Literal

import torch
from pydantic import Field
from torch import Tensor

from mtl_core.limits import MAX_SEED
from mtl_core.weighting.base import Losses, LossWeighting, StepContext
from mtl_core.weighting.registry import STRATEGIES

Distribution = Literal["normal", "dirichlet", "uniform"]


@STRATEGIES.register("rlw")
class RLW(LossWeighting):
    """Weigh the losses by fresh random weights each step: w = softmax(z), z ~ N(0, I) (or uniform, Dirichlet).

    One z entry is drawn per task of the run every step (from the method's own generator, so a
    seed repeats the sequence); tasks without labels in the batch are left out of the softmax, so
    the weights of the present tasks sum to 1.
    """

    claims = frozenset({"finite", "weights_on_simplex"})

    def __init__(
        self,
        distribution: Annotated[Distribution, Field(
            description="where z comes from: normal N(0, 1), uniform U(0, 1), or dirichlet Dir(1, …, 1)")] = "normal",
        seed: Annotated[int, Field(ge=0, le=MAX_SEED, description="seed of the method's own random generator")] = 0,
    ) -> None:
        self.distribution = distribution
        self.seed = seed

    def reset(self) -> None:
        self.generator_ = torch.Generator().manual_seed(self.seed)

    def draw(self, n_tasks: int, dtype: torch.dtype) -> Tensor:
        """z, [T], on the CPU, from the method's generator."""
        if self.distribution == "normal":
            return torch.randn(n_tasks, generator=self.generator_, dtype=dtype)
        uniform = torch.rand(n_tasks, generator=self.generator_, dtype=dtype)
        if self.distribution == "uniform":
            return uniform
        exponential = -torch.log1p(-uniform)  # Exp(1), finite since uniform < 1
        return exponential / exponential.sum()  # normalised Exp(1) draws are Dirichlet(1, …, 1)

    def weights(self, losses: Losses, context: StepContext) -> Tensor:
        z = self.draw(len(losses), losses.dtype).to(losses.device)
        present = context.present_mask(losses)
        if not bool(present.any()):
            return torch.zeros_like(losses)
        return torch.softmax(z.masked_fill(~present, float("-inf")), dim=0)
