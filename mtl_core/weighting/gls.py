"""GLS: Chennupati et al., 2019, "MultiNet++: Multi-Stream Feature Aggregation and Geometric Loss Strategy for Multi-Task Learning" (CVPR Workshops), the geometric loss strategy (GLS)."""

from __future__ import annotations

import torch
from torch import Tensor

from mtl_core.weighting.base import Losses, LossWeighting, StepContext
from mtl_core.weighting.registry import STRATEGIES


@STRATEGIES.register("gls")
class GLS(LossWeighting):
    """Minimise the geometric mean of the losses: total = (Π_t L_t)^(1/T) = exp(mean_t log L_t).

    Computed in log space, so a product of many small or large losses neither under- nor overflows.
    Its gradient weighs task t by G / (T L_t), G the geometric mean: these are the reported weights,
    unchanged when every loss is multiplied by the same constant. The mean runs over the tasks with
    labels in the batch and a loss above 0 (log 0 is undefined; such a task gets weight 0).
    """

    claims = frozenset({"finite", "task_order_invariant", "scale_invariant_weights"})

    def __init__(self) -> None:
        pass

    def combine(self, losses: Losses, context: StepContext) -> tuple[Tensor, Tensor]:
        active = context.present_mask(losses) & (losses.detach() > 0)  # [T]
        count = int(active.sum())
        if count == 0:
            return (losses * 0.0).sum(), torch.zeros_like(losses).detach()
        logs = torch.log(torch.where(active, losses, torch.ones_like(losses)))  # log 1 = 0 for left-out tasks
        total = torch.exp(logs.sum() / count)
        smallest = torch.finfo(losses.dtype).tiny
        weights = torch.where(active, total.detach() / (count * losses.detach().clamp_min(smallest)),
                              torch.zeros_like(losses))
        return total, weights.detach()

    def weights(self, losses: Losses, context: StepContext) -> Tensor:
        return self.combine(losses, context)[1]
