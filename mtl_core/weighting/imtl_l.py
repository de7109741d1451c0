"""IMTL-L: Liu et al., 2021, "Towards Impartial Multi-task Learning" (ICLR), IMTL-L, the loss-balance objective.

Each task learns a scale s_t; the scaled loss e^{s_t} L_t is balanced by the regulariser −s_t, so
at the optimum in s_t every scaled loss equals 1 (e^{s_t} = 1/L_t). The scales are learned jointly
with the model by gradient descent, as the paper does.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from mtl_core.weighting.base import Losses, LossWeighting, StepContext
from mtl_core.weighting.registry import STRATEGIES


@STRATEGIES.register("imtl_l")
class IMTLL(LossWeighting):
    """Learn one scale per task so every scaled loss is pulled to 1: total = Σ_t (e^{s_t} L_t − s_t).

    The reported weights are e^{s_t}. The s_t start at 0 (the plain sum). A task without labels in
    a batch contributes neither term, so its s_t does not drift.
    """

    claims = frozenset({"task_order_invariant"})

    def __init__(self) -> None:
        self.log_scales_: Tensor | None = None

    def reset(self) -> None:
        if self.log_scales_ is not None:  # in place: the optimiser already holds this tensor
            with torch.no_grad():
                self.log_scales_.zero_()

    def check_tasks(self, task_names: Sequence[str]) -> None:
        if self.log_scales_ is None or len(self.log_scales_) != len(task_names):
            self.log_scales_ = torch.zeros(len(task_names), requires_grad=True)

    def parameters(self) -> list[Tensor]:
        return [self.log_scales_] if self.log_scales_ is not None else []

    def combine(self, losses: Losses, context: StepContext) -> tuple[Tensor, Tensor]:
        if self.log_scales_ is None or len(self.log_scales_) != len(losses):
            self.check_tasks(context.task_names)
        assert self.log_scales_ is not None
        log_scales = self.log_scales_.to(device=losses.device, dtype=losses.dtype)  # [T], differentiable copy
        scales = torch.exp(log_scales)
        terms = scales * losses - log_scales
        present = context.present_mask(losses)
        total = torch.where(present, terms, torch.zeros_like(terms)).sum()
        return total, torch.where(present, scales, torch.zeros_like(scales)).detach()

    def weights(self, losses: Losses, context: StepContext) -> Tensor:
        return self.combine(losses, context)[1]
