"""DTP: Guo, Haque, Huang, Yeung & Fei-Fei, 2018, "Dynamic Task Prioritization for Multitask Learning" (ECCV), task-level prioritisation with a focal-loss weight.

Each task's weight is the focal-loss form of its key performance indicator κ̄_t ∈ (0, 1]:
w_t = −(1 − κ̄_t)^γ log κ̄_t, with κ̄_t = α κ_t + (1 − α) κ̄_t(previous) a moving average of the
KPI. Tasks that perform badly (small κ̄) are weighed up. The paper's KPIs are accuracies; tasks
here may be regressions, so the default KPI is κ_t = exp(−L_t / L_t(0)), in (0, 1], equal to
e⁻¹ at the first step and rising towards 1 as the loss falls. A subclass may override ``kpis``.
"""

from __future__ import annotations

from typing import Annotated

import torch
from pydantic import Field
from torch import Tensor

from mtl_core.weighting.base import Losses, LossWeighting, StepContext
from mtl_core.weighting.registry import STRATEGIES

SMALLEST_KPI = 1e-12  # κ̄ = 0 would give an infinite weight; −log(1e-12) ≈ 27.6 caps it


@STRATEGIES.register("dtp")
class DTP(LossWeighting):
    """Weigh up the worst-performing tasks: w_t = −(1 − κ̄_t)^γ log κ̄_t, κ̄_t the moving average of κ_t = e^{−L_t/L_t(0)}.

    The average starts at the first KPI a task shows and moves only at steps where the task has
    labels (a task without labels in the batch gets weight 0). L_t(0) is the run's first loss
    (``context.initial_losses``), or the task's first loss above 0 when it was unlabelled then.
    """

    claims = frozenset({"finite", "task_order_invariant"})

    def __init__(
        self,
        alpha: Annotated[float, Field(ge=0.0, le=1.0, description="α: weight of the newest KPI in its moving "
                                                                   "average")] = 0.9,
        gamma: Annotated[float, Field(ge=0.0, description="γ: focusing parameter; larger weighs the worst tasks "
                                                          "up more")] = 1.0,
    ) -> None:
        self.alpha = alpha
        self.gamma = gamma

    def reset(self) -> None:
        self.kpi_average_: Tensor | None = None  # κ̄, [T]; nan until a task is first seen
        self.initial_losses_: Tensor | None = None

    def kpis(self, losses: Tensor, context: StepContext) -> Tensor:
        """κ_t ∈ (0, 1] for this step, [T]: exp(−L_t / L_t(0))."""
        return torch.exp(-losses / self.initial(losses, context))

    def weights(self, losses: Losses, context: StepContext) -> Tensor:
        observed = losses.detach()
        present = context.present_mask(losses)
        average = self.update_average(self.kpis(observed, context), present).clamp(SMALLEST_KPI, 1.0)
        weights = -(1.0 - average).pow(self.gamma) * torch.log(average)
        return torch.where(present, weights, torch.zeros_like(weights))

    def update_average(self, kpis: Tensor, present: Tensor) -> Tensor:
        """κ̄ ← α κ + (1 − α) κ̄ for the present tasks (κ̄ ← κ at a task's first step); returns κ̄, [T]."""
        if self.kpi_average_ is None:
            self.kpi_average_ = torch.full_like(kpis, float("nan"))
        previous = self.kpi_average_
        moved = torch.where(previous.isnan(), kpis, self.alpha * kpis + (1.0 - self.alpha) * previous)
        self.kpi_average_ = torch.where(present, moved, previous)
        return torch.nan_to_num(self.kpi_average_, nan=1.0)

    def initial(self, losses: Tensor, context: StepContext) -> Tensor:
        """L_t(0), [T]: the run's first loss, else the task's first loss above 0; 1 while none is known."""
        if self.initial_losses_ is None:
            self.initial_losses_ = torch.zeros_like(losses)
        known = self.initial_losses_
        if context.initial_losses is not None:
            given = torch.tensor(context.initial_losses, dtype=losses.dtype, device=losses.device)
            known = torch.where((known <= 0) & (given > 0), given, known)
        present = context.present_mask(losses)
        known = torch.where((known <= 0) & present & (losses > 0), losses, known)
        self.initial_losses_ = known
        return torch.where(known > 0, known, torch.ones_like(known))
