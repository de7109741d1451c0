"""FAMO: Liu, Feng, Stone & Liu, 2023, "FAMO: Fast Adaptive Multitask Optimization" (NeurIPS), Algorithm 1.

With logits ξ and z = softmax(ξ), the model descends c Σ_t z_t log L_t, c = (Σ_t z_t / L_t)⁻¹ held
constant, so task t is weighed by c z_t / L_t (weights summing to 1). After the step, ξ moves
against ∇_ξ zᵀδ + γξ with δ_t = log L_t(before) − log L_t(after): a task whose loss fell less
gains weight. As in the official code (and torchjd, LibMTL), ξ is updated by Adam with learning
rate β and weight decay γ (``update = "sgd"``: the plain step ξ ← ξ − β(∇_ξ zᵀδ + γξ) of Algorithm 1),
and ε = 1e-8 is added to every loss inside the logarithms.

The losses after the step are the next step's losses: ξ is updated at the start of each call
from the previous call's losses. With full batches (``train.batch_size = 0``) these are exactly
the same rows after the step, as Algorithm 1 has it; with mini-batches the next batch stands in
for them (an approximation: the official code spends an extra forward pass to recompute the
losses of the same batch after the step).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Annotated, Literal

import torch
from pydantic import Field
from torch import Tensor

from mtl_core.weighting.base import Losses, LossWeighting, StepContext
from mtl_core.weighting.registry import STRATEGIES

EPSILON = 1e-8  # added to every loss inside the logarithms
ADAM_BETAS = (0.9, 0.999)
ADAM_EPSILON = 1e-8


@STRATEGIES.register("famo")
class FAMO(LossWeighting):
    """Decrease every loss at the same rate: total = c Σ_t z_t log L_t, z = softmax(ξ), ξ learned from log-loss changes.

    Tasks without labels in the batch (or with a loss of exactly 0) are left out of the sum and of
    c, and their logit gets no update from δ until they are seen in two consecutive steps.
    """

    claims = frozenset({"finite", "task_order_invariant", "weights_on_simplex"})

    def __init__(
        self,
        lr: Annotated[float, Field(gt=0.0, description="β: learning rate of the task logits ξ")] = 0.025,
        weight_decay: Annotated[float, Field(ge=0.0, description="γ: weight decay of the task logits ξ")] = 0.001,
        update: Annotated[Literal["adam", "sgd"], Field(
            description="adam: the official code's optimiser for ξ; sgd: Algorithm 1's plain step")] = "adam",
    ) -> None:
        self.lr = lr
        self.weight_decay = weight_decay
        self.update = update
        self.logits_: Tensor | None = None

    def reset(self) -> None:
        if self.logits_ is not None:
            self.check_tasks([""] * len(self.logits_))
        self.previous_: tuple[Tensor, Tensor] | None = None  # last call's losses [T] and active tasks [T]

    def check_tasks(self, task_names: Sequence[str]) -> None:
        self.logits_ = torch.zeros(len(task_names))  # ξ, [T]: learned here, not by the model's optimiser
        self.moments_ = (torch.zeros(len(task_names)), torch.zeros(len(task_names)))  # Adam's m and v, [T]
        self.updates_ = 0

    def combine(self, losses: Losses, context: StepContext) -> tuple[Tensor, Tensor]:
        if self.logits_ is None or len(self.logits_) != len(losses):
            self.check_tasks(context.task_names)
        assert self.logits_ is not None
        observed = losses.detach()
        active = context.present_mask(losses) & (observed > 0)  # [T]
        self.learn(observed, active)
        self.previous_ = (observed.clone(), active)
        if not bool(active.any()):
            return (losses * 0.0).sum(), torch.zeros_like(observed)
        z = torch.softmax(self.logits_, dim=0).to(device=losses.device, dtype=losses.dtype)  # [T]
        shifted = torch.where(active, losses + EPSILON, torch.ones_like(losses))  # log 1 = 0 for left-out tasks
        inverse = torch.where(active, z / shifted.detach(), torch.zeros_like(z))  # z_t / L_t
        c = 1.0 / inverse.sum()
        return (c * z * torch.log(shifted)).sum(), (c * inverse).detach()

    def weights(self, losses: Losses, context: StepContext) -> Tensor:
        return self.combine(losses, context)[1]

    def learn(self, losses: Tensor, active: Tensor) -> None:
        """One step on ξ from δ = log L(previous call) − log L(this call), for tasks active in both."""
        if self.previous_ is None or self.logits_ is None:
            return
        before, was_active = self.previous_
        both = (active & was_active).cpu()
        delta = (torch.log(before + EPSILON) - torch.log(losses + EPSILON)).cpu().to(self.logits_.dtype)
        delta = torch.where(both, delta, torch.zeros_like(delta))  # [T]
        z = torch.softmax(self.logits_, dim=0)
        gradient = z * (delta - (z * delta).sum())  # ∇_ξ zᵀδ = (diag(z) − z zᵀ) δ
        if self.update == "adam":
            self.adam_step(gradient)
        else:
            self.logits_.sub_(self.lr * (gradient + self.weight_decay * self.logits_))

    def adam_step(self, gradient: Tensor) -> None:
        """One step of torch.optim.Adam on ξ (β = (0.9, 0.999), ε = 1e-8, L2 weight decay γ), as torch writes it."""
        assert self.logits_ is not None
        first, second = self.moments_
        gradient = gradient + self.weight_decay * self.logits_
        self.updates_ += 1
        first.lerp_(gradient, 1.0 - ADAM_BETAS[0])
        second.mul_(ADAM_BETAS[1]).addcmul_(gradient, gradient, value=1.0 - ADAM_BETAS[1])
        correction1 = 1.0 - ADAM_BETAS[0] ** self.updates_
        correction2 = 1.0 - ADAM_BETAS[1] ** self.updates_
        denominator = (second.sqrt() / math.sqrt(correction2)).add_(ADAM_EPSILON)
        self.logits_.addcdiv_(first, denominator, value=-self.lr / correction1)
