"""STCH: Lin, Zhang, Yang, Liu & Zhang, 2024, "Smooth Tchebycheff Scalarization for Multi-Objective Optimization" (ICML), the smooth Tchebycheff scalarisation and its multi-task code.

Smooth Tchebycheff: g_μ(x) = μ log Σ_t exp(λ_t (f_t(x) − z_t) / μ), a smooth stand-in for the
weighted worst task max_t λ_t (f_t − z_t) that tightens as μ → 0. The paper's multi-task code
(STCH_MTL, also in LibMTL) first trains on Σ_t log L_t for a warm-up, takes the mean training loss
of the last warm-up epoch as a nadir point L̂_t, and then minimises T·g_μ with f_t = log(L_t / L̂_t),
λ_t = 1 and z_t = 0 (``objective = "normalised"``, the default; its μ = 1 and warm-up of 5 epochs —
the code's ``STCH_warmup_epoch = 4`` counts epochs from 0). ``objective = "ideal"`` applies g_μ
to the raw losses instead: λ_t = 1/T (uniform preference) and z_t the lowest loss of task t seen
so far (the ideal point), after the same warm-up.
"""

from __future__ import annotations

from typing import Annotated, Literal

import torch
from pydantic import Field
from torch import Tensor

from mtl_core.weighting.base import Losses, LossWeighting, StepContext
from mtl_core.weighting.registry import STRATEGIES


@STRATEGIES.register("stch")
class STCH(LossWeighting):
    """Minimise a smooth maximum of normalised losses: T μ log Σ_t exp(log(L_t/L̂_t)/μ), after a Σ log L warm-up.

    ``ideal``: total = μ log Σ_t exp((L_t − z_t) / (T μ)), z_t the lowest L_t so far. The reported
    weights are ∂total/∂L_t: 1/L_t in the warm-up, T softmax_t / L_t (``ideal``: softmax_t / T) after.
    Tasks without labels in the batch, or with a loss of exactly 0, are left out with weight 0. A
    task with no labelled row in the nadir epoch takes its current loss as nadir (f_t = 0).
    """

    claims = frozenset({"finite", "task_order_invariant"})

    def __init__(
        self,
        mu: Annotated[float, Field(gt=0.0, description="μ: smoothing; smaller is closer to the worst task "
                                                       "alone")] = 1.0,
        warmup_epochs: Annotated[int, Field(ge=0, description="epochs trained on Σ log L before the smooth "
                                                              "maximum")] = 5,
        objective: Annotated[Literal["normalised", "ideal"], Field(
            description="normalised: log(L / nadir), the paper's multi-task code; ideal: L minus the lowest "
                        "loss seen, preference 1/T")] = "normalised",
    ) -> None:
        self.mu = mu
        self.warmup_epochs = warmup_epochs
        self.objective = objective

    def reset(self) -> None:
        self.ideal_: Tensor | None = None  # z, the lowest loss seen per task, [T]; inf until seen

    def combine(self, losses: Losses, context: StepContext) -> tuple[Tensor, Tensor]:
        observed = losses.detach()
        active = context.present_mask(losses) & (observed > 0)  # [T]
        self.track_ideal(observed, active)
        if not bool(active.any()):
            return (losses * 0.0).sum(), torch.zeros_like(observed)
        safe = torch.where(active, losses, torch.ones_like(losses))  # log 1 = 0 for left-out tasks
        if context.epoch <= self.warmup_epochs:
            return torch.log(safe).sum(), torch.where(active, 1.0 / safe.detach(), torch.zeros_like(observed))
        n_tasks = len(losses)
        if self.objective == "normalised":
            values, scale, slope = torch.log(safe / self.nadir(observed, context)), float(n_tasks), 1.0 / safe.detach()
        else:
            assert self.ideal_ is not None
            values, scale, slope = (losses - self.ideal_) / n_tasks, 1.0, torch.full_like(observed, 1.0 / n_tasks)
        exponents = torch.where(active, values / self.mu, torch.full_like(values, float("-inf")))
        total = scale * self.mu * torch.logsumexp(exponents, dim=0)
        weights = scale * torch.softmax(exponents.detach(), dim=0) * slope
        return total, torch.where(active, weights, torch.zeros_like(weights)).detach()

    def weights(self, losses: Losses, context: StepContext) -> Tensor:
        return self.combine(losses, context)[1]

    def track_ideal(self, losses: Tensor, active: Tensor) -> None:
        """z_t ← min(z_t, L_t) for the active tasks."""
        if self.ideal_ is None:
            self.ideal_ = torch.full_like(losses, float("inf"))
        self.ideal_ = torch.where(active, torch.minimum(self.ideal_, losses), self.ideal_)

    def nadir(self, losses: Tensor, context: StepContext) -> Tensor:
        """L̂, [T]: the mean loss of the last warm-up epoch (the run's first losses when there is no warm-up)."""
        row: tuple[float, ...] | None = None
        if self.warmup_epochs > 0 and len(context.epoch_losses) >= self.warmup_epochs:
            row = context.epoch_losses[self.warmup_epochs - 1]
        elif self.warmup_epochs == 0:
            row = context.initial_losses
        if row is None:
            return losses
        nadir = torch.tensor(row, dtype=losses.dtype, device=losses.device)
        return torch.where(nadir > 0, nadir, losses)
