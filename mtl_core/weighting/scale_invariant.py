"""Scale-invariant loss: Navon et al., 2022, "Multi-Task Learning as a Bargaining Game" (ICML), the scale-invariant (SI) baseline of its experiments.

Σ_t log L_t is unchanged, up to a constant, when any one loss is multiplied by a constant, so no
task dominates through the scale of its loss alone.
"""

from __future__ import annotations

import torch
from torch import Tensor

from mtl_core.weighting.base import Losses, LossWeighting, StepContext
from mtl_core.weighting.registry import STRATEGIES


@STRATEGIES.register("scale_invariant")
class ScaleInvariant(LossWeighting):
    """Sum the logarithms of the losses: total = Σ_t log L_t, so task t is weighed by 1/L_t.

    The reported weights are 1/L_t. Tasks without labels in the batch, or with a loss of exactly 0
    (log 0 is undefined), are left out with weight 0.
    """

    claims = frozenset({"finite", "task_order_invariant"})

    def __init__(self) -> None:
        pass

    def combine(self, losses: Losses, context: StepContext) -> tuple[Tensor, Tensor]:
        active = context.present_mask(losses) & (losses.detach() > 0)  # [T]
        if not bool(active.any()):
            return (losses * 0.0).sum(), torch.zeros_like(losses).detach()
        total = torch.log(torch.where(active, losses, torch.ones_like(losses))).sum()  # log 1 = 0 for left-out tasks
        inverse = 1.0 / losses.detach().clamp_min(torch.finfo(losses.dtype).tiny)
        return total, torch.where(active, inverse, torch.zeros_like(losses)).detach()

    def weights(self, losses: Losses, context: StepContext) -> Tensor:
        return self.combine(losses, context)[1]
