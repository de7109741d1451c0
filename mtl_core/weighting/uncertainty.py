"""Uncertainty weighting: Kendall, Gal & Cipolla, 2018, "Multi-Task Learning Using Uncertainty to Weigh Losses for Scene Geometry and Semantics" (CVPR), the homoscedastic-uncertainty loss.

Each task t learns s_t = log σ_t² (its homoscedastic uncertainty). The paper's regression
likelihood gives 1/(2σ_t²) L_t + log σ_t = ½ exp(−s_t) L_t + ½ s_t (``form = "kendall"``; torchjd's
``UW`` and LibMTL's ``UW`` use this form). The form used by most re-implementations drops the
halves: exp(−s_t) L_t + s_t (``form = "simplified"``, the default). Both have the same optimum in
s_t (exp(−s_t) = 1/L_t); the simplified form's total and gradients are exactly twice the paper's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Literal

import torch
from pydantic import Field
from torch import Tensor

from mtl_core.weighting.base import Losses, LossWeighting, StepContext
from mtl_core.weighting.registry import STRATEGIES


@STRATEGIES.register("uncertainty")
class Uncertainty(LossWeighting):
    """Learn one log-variance per task: total = Σ_t exp(−s_t) L_t + s_t (``kendall``: ½ exp(−s_t) L_t + ½ s_t).

    The reported weights are exp(−s_t) (``kendall``: ½ exp(−s_t)), the factor on L_t. The s_t start
    at 0 (weights 1, the plain sum) and are learned by the model's optimiser. A task without labels
    in a batch contributes neither term, so its s_t does not drift.
    """

    claims = frozenset({"task_order_invariant"})

    def __init__(
        self,
        form: Annotated[Literal["simplified", "kendall"], Field(
            description="simplified: Σ exp(−s)L + s; kendall: the paper's ½ exp(−s)L + ½ s")] = "simplified",
    ) -> None:
        self.form = form
        self.log_vars_: Tensor | None = None

    def reset(self) -> None:
        if self.log_vars_ is not None:  # in place: the optimiser already holds this tensor
            with torch.no_grad():
                self.log_vars_.zero_()

    def check_tasks(self, task_names: Sequence[str]) -> None:
        if self.log_vars_ is None or len(self.log_vars_) != len(task_names):
            self.log_vars_ = torch.zeros(len(task_names), requires_grad=True)

    def parameters(self) -> list[Tensor]:
        return [self.log_vars_] if self.log_vars_ is not None else []

    def combine(self, losses: Losses, context: StepContext) -> tuple[Tensor, Tensor]:
        if self.log_vars_ is None or len(self.log_vars_) != len(losses):
            self.check_tasks(context.task_names)
        assert self.log_vars_ is not None
        log_vars = self.log_vars_.to(device=losses.device, dtype=losses.dtype)  # [T], differentiable copy
        half = 0.5 if self.form == "kendall" else 1.0
        precisions = half * torch.exp(-log_vars)
        terms = precisions * losses + half * log_vars
        present = context.present_mask(losses)
        total = torch.where(present, terms, torch.zeros_like(terms)).sum()
        return total, torch.where(present, precisions, torch.zeros_like(precisions)).detach()

    def weights(self, losses: Losses, context: StepContext) -> Tensor:
        return self.combine(losses, context)[1]
