"""CoV-weighting: Groenendijk, Karaoglu, Gevers & Mensink, 2021, "Multi-Loss Weighting with Coefficient of Variations" (WACV), CoV-Weighting as in the official code.

The loss ratio ℓ_t = L_t / μ_{L_t} compares a loss with its own mean over the steps so far; its
coefficient of variation c_t = σ_{ℓ_t} / μ_{ℓ_t} measures how much the task is still changing, and
the weights are α_t = c_t / Σ_i c_i. Means and variances are Welford running statistics, as in the
official code: at step k (0-based) the ratio uses the mean of L over steps 0..k−1 (L itself at k = 0),
the weights use the statistics of ℓ over steps 0..k−1 (equal weights 1/T at the first two steps),
and σ_ℓ = sqrt(S_ℓ / (k + 1) + 1e-8). ``decay`` switches to the official code's decaying means
(μ ← decay·μ + (1 − decay)·x after the first step) instead of the running mean over all steps.
"""

from __future__ import annotations

from typing import Annotated

import torch
from pydantic import Field
from torch import Tensor

from mtl_core.weighting.base import Losses, LossWeighting, StepContext
from mtl_core.weighting.registry import STRATEGIES

WARMUP_STEPS = 2  # the official code weighs equally until two loss ratios have been seen


@STRATEGIES.register("cov")
class CoVWeighting(LossWeighting):
    """Weigh tasks by the variation of their loss ratios: α_t = (σ_ℓt/μ_ℓt) / Σ_i (σ_ℓi/μ_ℓi), ℓ_t = L_t/μ_{L_t}.

    Statistics are kept per task and move only at steps where the task has labels and a loss
    above 0 (ℓ divides by the mean loss); other tasks get weight 0 and the weights of the rest
    sum to 1.
    """

    claims = frozenset({"finite", "task_order_invariant", "weights_on_simplex", "scale_invariant_weights"})

    def __init__(
        self,
        decay: Annotated[float, Field(gt=0.0, lt=1.0, description="decaying-mean variant: weight of the old mean "
                                                                  "(empty: the running mean)")] | None = None,
    ) -> None:
        self.decay = decay

    def reset(self) -> None:
        self.counts_: Tensor | None = None  # steps seen per task, [T]
        self.mean_loss_: Tensor | None = None  # μ_L, [T]
        self.mean_ratio_: Tensor | None = None  # μ_ℓ, [T]
        self.squares_: Tensor | None = None  # Welford's S_ℓ, [T]

    def weights(self, losses: Losses, context: StepContext) -> Tensor:
        observed = losses.detach()
        active = context.present_mask(losses) & (observed > 0)
        if self.counts_ is None or self.mean_loss_ is None or self.mean_ratio_ is None or self.squares_ is None:
            zeros = torch.zeros_like(observed)
            self.counts_, self.mean_loss_, self.mean_ratio_, self.squares_ = zeros, zeros, zeros, zeros
        if not bool(active.any()):
            return torch.zeros_like(observed)
        weights = self.current_weights(active)
        self.observe(observed, active)
        return weights

    def current_weights(self, active: Tensor) -> Tensor:
        """α from the statistics before this step, over the active tasks, [T]."""
        assert self.counts_ is not None and self.mean_ratio_ is not None and self.squares_ is not None
        if bool((self.counts_[active] < WARMUP_STEPS).any()):
            return active.to(self.counts_.dtype) / int(active.sum())
        std = torch.sqrt(self.squares_ / self.counts_.clamp_min(1) + 1e-8)
        variation = torch.where(active, std / self.mean_ratio_.clamp_min(torch.finfo(std.dtype).tiny),
                                torch.zeros_like(std))
        return variation / variation.sum()

    def observe(self, losses: Tensor, active: Tensor) -> None:
        """Welford updates of μ_L, μ_ℓ and S_ℓ for the active tasks."""
        assert self.counts_ is not None and self.mean_loss_ is not None
        assert self.mean_ratio_ is not None and self.squares_ is not None
        first = self.counts_ == 0
        ratios = losses / torch.where(first, losses, self.mean_loss_).clamp_min(torch.finfo(losses.dtype).tiny)
        old = (1.0 - 1.0 / (self.counts_ + 1.0)) if self.decay is None else torch.full_like(losses, self.decay)
        old = torch.where(first, torch.zeros_like(old), old)  # weight of the old mean
        mean_ratio = old * self.mean_ratio_ + (1.0 - old) * ratios
        squares = self.squares_ + (ratios - self.mean_ratio_) * (ratios - mean_ratio)
        self.mean_ratio_ = torch.where(active, mean_ratio, self.mean_ratio_)
        self.squares_ = torch.where(active, squares, self.squares_)
        self.mean_loss_ = torch.where(active, old * self.mean_loss_ + (1.0 - old) * losses, self.mean_loss_)
        self.counts_ = self.counts_ + active.to(self.counts_.dtype)
