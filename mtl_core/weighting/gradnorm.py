"""GradNorm: Chen et al., 2018, "GradNorm: Gradient Normalization for Adaptive Loss Balancing in Deep Multitask Networks" (ICML), Algorithm 1.

On the last shared layer W: G_t = ‖∇_W w_t L_t‖ = w_t ‖∇_W L_t‖, Ḡ = mean_t G_t, L̃_t = L_t / L_t(0),
r_t = L̃_t / mean_i L̃_i, and L_grad = Σ_t |G_t − Ḡ·r_t^α| with Ḡ·r_t^α held constant (eq. 2). The
network descends Σ_t w_t L_t with the w_t fixed; the w_t descend L_grad only; after every step
the w_t are renormalised so that Σ_t w_t = T.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

import torch
from pydantic import Field
from torch import Tensor

from mtl_core.weighting.base import Losses, LossWeighting, StepContext
from mtl_core.weighting.registry import STRATEGIES

SMALLEST_WEIGHT = 1e-6  # a weight pushed below 0 by a large step is clipped here before renormalising


@STRATEGIES.register("gradnorm")
class GradNorm(LossWeighting):
    """Learn weights that equalise gradient norms scaled by training rates: L_grad = Σ_t |G_t − Ḡ r_t^α|.

    ``combine`` returns Σ_t w̄_t L_t + L_grad(w): w̄ is w detached, so the model gets the weighted
    sum's gradient, and L_grad depends on w only (the norms ‖∇_W L_t‖ arrive detached in
    ``context.last_layer_grad_norms``). L_t(0) is the run's first loss (``context.initial_losses``),
    or a task's first loss above 0 when it had no labels at the first step. Tasks without labels in
    the batch are left out of L_grad and get weight 0 for the step.
    """

    claims = frozenset({"finite", "task_order_invariant"})
    grad_norms = "last_layer"

    def __init__(
        self,
        alpha: Annotated[float, Field(gt=0.0, description="α: the restoring force pulling tasks back to a common "
                                                          "training rate")] = 1.5,
    ) -> None:
        self.alpha = alpha
        self.task_weights_: Tensor | None = None
        self.initial_losses_: Tensor | None = None

    def reset(self) -> None:
        if self.task_weights_ is not None:  # in place: the optimiser already holds this tensor
            with torch.no_grad():
                self.task_weights_.fill_(1.0)
        self.initial_losses_ = None

    def check_tasks(self, task_names: Sequence[str]) -> None:
        if self.task_weights_ is None or len(self.task_weights_) != len(task_names):
            self.task_weights_ = torch.ones(len(task_names), requires_grad=True)

    def parameters(self) -> list[Tensor]:
        return [self.task_weights_] if self.task_weights_ is not None else []

    def after_step(self) -> None:
        """Renormalise: w ← T·w / Σ w (the paper's Σ w_t = T)."""
        if self.task_weights_ is not None:
            with torch.no_grad():
                self.task_weights_.clamp_(min=SMALLEST_WEIGHT)
                self.task_weights_.mul_(len(self.task_weights_) / self.task_weights_.sum())

    def combine(self, losses: Losses, context: StepContext) -> tuple[Tensor, Tensor]:
        if self.task_weights_ is None or len(self.task_weights_) != len(losses):
            self.check_tasks(context.task_names)
        assert self.task_weights_ is not None
        weights = self.task_weights_.to(device=losses.device, dtype=losses.dtype)  # [T], differentiable copy
        present = context.present_mask(losses)
        used = torch.where(present, weights.detach(), torch.zeros_like(weights))
        total = (used * losses).sum()
        if context.last_layer_grad_norms is not None and bool(present.any()):
            total = total + self.grad_loss(weights, losses.detach(), context.last_layer_grad_norms, present, context)
        return total, used

    def weights(self, losses: Losses, context: StepContext) -> Tensor:
        return self.combine(losses, context)[1]

    def grad_loss(self, weights: Tensor, losses: Tensor, norms: Tensor, present: Tensor,
                  context: StepContext) -> Tensor:
        """L_grad = Σ_t |G_t − Ḡ·r_t^α| over the present tasks, differentiable in ``weights`` only."""
        grads = weights * norms.to(device=weights.device, dtype=weights.dtype)  # G_t, [T]
        rates = losses / self.initial(losses, present, context)  # L̃_t, [T]
        mean_rate = rates[present].mean()
        relative = rates / mean_rate if bool(mean_rate > 0) else torch.ones_like(rates)  # r_t
        targets = (grads[present].mean() * relative.pow(self.alpha)).detach()
        return (grads - targets)[present].abs().sum()

    def initial(self, losses: Tensor, present: Tensor, context: StepContext) -> Tensor:
        """L_t(0), [T]: the run's first loss, else the task's first loss above 0; 1 while none is known."""
        if self.initial_losses_ is None:
            self.initial_losses_ = torch.zeros_like(losses)
        known = self.initial_losses_
        if context.initial_losses is not None:
            given = torch.tensor(context.initial_losses, dtype=losses.dtype, device=losses.device)
            known = torch.where((known <= 0) & (given > 0), given, known)
        known = torch.where((known <= 0) & present & (losses > 0), losses, known)
        self.initial_losses_ = known
        return torch.where(known > 0, known, torch.ones_like(known))
