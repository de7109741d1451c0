"""Gradient-ratio penalty: MTL Lab seed 002, "Multi-Task Learning (MTL) Technical Notes", Advanced Topics, ``grad_norm_loss``.

Seed 002 trains two tasks on L1 + L2 + α·|‖∇L1‖ / ‖∇L2‖ − 1| with α = 0.12, the norms taken over
the parameters and differentiated through (``create_graph``), so the penalty's own gradient pulls
the two gradient norms together. Here the norms run over the shared parameters (a head's
parameters only ever see their own task). For T ≠ 2 tasks the ratio is generalised to each
task's norm over the mean norm: Σ_t L_t + α Σ_t |‖∇L_t‖ / mean_s ‖∇L_s‖ − 1|.
"""

from __future__ import annotations

from typing import Annotated

import torch
from pydantic import Field
from torch import Tensor

from mtl_core.weighting.base import Losses, LossWeighting, StepContext
from mtl_core.weighting.registry import STRATEGIES


@STRATEGIES.register("grad_ratio")
class GradRatio(LossWeighting):
    """Sum the losses plus a penalty on unequal gradient norms: Σ_t L_t + α·|n_1/n_2 − 1| (T tasks: α Σ_t |n_t/n̄ − 1|).

    n_t = ‖∇_θs L_t‖ over the shared parameters, differentiable (``context.shared_grad_norms``).
    The reported weights are 1 for every task (the penalty is not a loss weight). With two tasks
    the seed's ratio n_1/n_2 is used as written (it depends on the task order); otherwise the
    order-free n_t / mean(n). No penalty is added when a norm is 0 (the ratio and the norm's
    derivative are undefined there), when fewer than two tasks are labelled, when a task has no
    labels in the batch (the shared norms' double backward is not defined through an unlabelled
    task's zero gradient), or when the caller gives no norms.
    """

    claims = frozenset({"finite"})
    grad_norms = "shared"

    def __init__(
        self,
        alpha: Annotated[float, Field(ge=0.0, description="α: the strength of the gradient-ratio penalty")] = 0.12,
    ) -> None:
        self.alpha = alpha

    def combine(self, losses: Losses, context: StepContext) -> tuple[Tensor, Tensor]:
        present = context.present_mask(losses)
        total = losses.sum()  # an unlabelled task's loss is 0
        weights = present.to(losses.dtype)
        if context.shared_grad_norms is None or self.alpha == 0 or len(losses) < 2 or not bool(present.all()):
            return total, weights
        norms = context.shared_grad_norms()  # [T], differentiable
        if not bool((norms.detach() > 0).all()):
            return total, weights
        return total + self.alpha * self.penalty(norms), weights

    def weights(self, losses: Losses, context: StepContext) -> Tensor:
        return context.present_mask(losses).to(losses.dtype)

    @staticmethod
    def penalty(norms: Tensor) -> Tensor:
        """|n_1/n_2 − 1| for two tasks (the seed's), Σ_t |n_t / mean(n) − 1| otherwise."""
        if len(norms) == 2:
            return (norms[0] / norms[1] - 1.0).abs()
        return (norms / norms.mean() - 1.0).abs().sum()
