"""One optimisation step's gradients: a loss-based scalar, or task gradients combined by a strategy."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from mtl_core.weighting import GradientStrategy, LossWeighting, StepContext, task_gradients, write_direction


def loss_based_grads(strategy: LossWeighting, losses: Tensor, context: StepContext) -> Tensor:
    """Backward of the strategy's scalar; returns the weights it used, [T]."""
    total, weights = strategy.combine(losses, context)
    total.backward()
    return weights


def gradient_based_grads(strategy: GradientStrategy, losses: Tensor, present: Sequence[bool],
                         shared: Sequence[Tensor], heads: Sequence[Tensor], representation: Tensor | None,
                         mode: str = "per_task") -> Tensor | None:
    """Fill ``.grad``: the strategy's direction for the shared part, each task's own gradient for its head.

    Tasks without labelled rows in the batch are left out of the Jacobian (a zero row would pull
    min-norm methods to a zero update). With ``representation`` (MGDA-UB style) the rows are
    gradients w.r.t. the shared representation z, and z's combined gradient is back-propagated
    into the shared parameters. Returns the implied task weights [T] (0 for absent tasks) or None.
    """
    if getattr(strategy, "log_losses", False):  # DB-MTL (Lin et al., 2023): gradients of log L_t = ∇L_t / L_t
        tiny = torch.finfo(losses.dtype).tiny
        losses = torch.stack([loss.clamp_min(tiny).log() if labelled else loss
                              for loss, labelled in zip(losses, present, strict=True)])  # absent: exactly 0, no log
    rows = [index for index, labelled in enumerate(present) if labelled]
    if rows:
        kept = losses[rows]
        if representation is None:
            direction = strategy(task_gradients(kept, shared, mode), rows=rows)  # [P]
            write_direction(direction, shared)
        else:
            direction = strategy(task_gradients(kept, [representation], mode), rows=rows)  # [B·H]
            representation.backward(direction.view_as(representation), retain_graph=True)
    head_grads = torch.autograd.grad(losses.sum(), list(heads), allow_unused=True)
    for parameter, grad in zip(heads, head_grads, strict=True):
        parameter.grad = grad
    implied = strategy.implied_weights() if rows else None
    if implied is None:
        return None
    weights = torch.zeros(len(present), dtype=implied.dtype, device=implied.device)
    weights[rows] = implied
    return weights
