"""DWA: Liu, Johns & Davison, 2019, "End-to-End Multi-Task Learning with Attention" (CVPR), Dynamic Weight Average, eq. (1).

λ_t(e) = T exp(r_t(e−1)/τ) / Σ_i exp(r_i(e−1)/τ), with r_t(e−1) = L_t(e−1) / L_t(e−2) the ratio of the
task's mean training losses over the two epochs before epoch e, and λ_t = 1 in the first two
epochs (as the paper's code does). The weights change once per epoch and need no gradient.
"""

from __future__ import annotations

from typing import Annotated

import torch
from pydantic import Field
from torch import Tensor

from mtl_core.weighting.base import Losses, LossWeighting, StepContext
from mtl_core.weighting.registry import STRATEGIES


@STRATEGIES.register("dwa")
class DWA(LossWeighting):
    """Weigh up the tasks whose loss fell least over the last epoch: w_t = T·softmax_t(r_t/τ), r_t = L_t(e−1)/L_t(e−2).

    The losses L_t(e) are the epoch means the trainer records (``context.epoch_losses``). A task
    with a mean of 0 in either epoch (no labelled row) takes r_t = 1; a task without labels in the
    current batch gets weight 0.
    """

    claims = frozenset({"finite", "task_order_invariant", "scale_invariant_weights"})

    def __init__(
        self,
        temperature: Annotated[float, Field(gt=0.0, description="τ: larger makes the weights more even")] = 2.0,
    ) -> None:
        self.temperature = temperature

    def weights(self, losses: Losses, context: StepContext) -> Tensor:
        present = context.present_mask(losses)
        history = context.epoch_losses
        if len(history) < 2:
            return present.to(losses.dtype)
        older = torch.tensor(history[-2], dtype=losses.dtype, device=losses.device)  # L(e−2), [T]
        newer = torch.tensor(history[-1], dtype=losses.dtype, device=losses.device)  # L(e−1), [T]
        known = (older > 0) & (newer > 0)
        rates = torch.where(known, newer / older.clamp_min(torch.finfo(losses.dtype).tiny), torch.ones_like(older))
        weights = len(losses) * torch.softmax(rates / self.temperature, dim=0)
        return torch.where(present, weights, torch.zeros_like(weights))
