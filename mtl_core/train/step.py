"""One optimisation step's gradients: a loss-based scalar, or task gradients combined by a strategy."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor

from mtl_core.weighting import (
    GradientStrategy, LossWeighting, StepContext, split_gradients, task_gradients, write_direction,
)


def loss_based_grads(strategy: LossWeighting, losses: Tensor, context: StepContext) -> Tensor:
    """Backward of the strategy's scalar; returns the weights it used, [T]."""
    total, weights = strategy.combine(losses, context)
    total.backward()
    return weights


def gradient_based_grads(strategy: GradientStrategy, losses: Tensor, present: Sequence[bool],
                         shared: Sequence[Tensor], heads: Sequence[Tensor], representation: Tensor | None,
                         mode: str = "per_task",
                         observe: Callable[[Tensor, list[int], Tensor], None] | None = None) -> Tensor | None:
    """Fill ``.grad``: the strategy's direction for the shared part, each task's own gradient for its head.

    Tasks without labelled rows in the batch are left out of the Jacobian (a zero row would pull
    min-norm methods to a zero update). With ``representation`` (MGDA-UB style) the rows are
    gradients w.r.t. the shared representation z, and z's combined gradient is back-propagated
    into the shared parameters. In the ``per_task`` mode one backward pass per task yields its row
    and its head's gradient together (``split_gradients``). Returns the implied task weights [T]
    (0 for absent tasks) or None. ``observe(jacobian, rows, direction)`` (diagnostics) sees the Jacobian and the
    direction once the direction is written; it must change neither.
    """
    rows = [index for index, labelled in enumerate(present) if labelled]
    inputs = list(shared) if representation is None else [representation]
    log_losses = getattr(strategy, "log_losses", False)  # DB-MTL (Lin et al., 2023): ∇ log L_t = ∇L_t / L_t
    if mode == "per_task":
        scales = None
        if log_losses:  # seed task t's pass with d log(max(L_t, tiny))/dL_t; an absent task keeps its plain 0
            labelled = torch.tensor(present, device=losses.device)
            detached = losses.detach()
            log_slope = torch.where(detached >= torch.finfo(losses.dtype).tiny, 1.0 / detached, 0.0)
            scales = torch.where(labelled, log_slope, 1.0)
        jacobian, head_grads = split_gradients(losses, rows, inputs, heads, scales)
    else:
        if log_losses:
            tiny = torch.finfo(losses.dtype).tiny
            losses = torch.stack([loss.clamp_min(tiny).log() if labelled else loss
                                  for loss, labelled in zip(losses, present, strict=True)])  # absent: 0, no log
        jacobian = task_gradients(losses[rows], inputs, mode) if rows else losses.new_zeros((0, 0))
        head_grads = list(torch.autograd.grad(losses.sum(), list(heads), retain_graph=True, allow_unused=True))
    if rows:
        direction = strategy(jacobian, rows=rows)  # [P], or [B·H] in the representation space
        if representation is None:
            write_direction(direction, shared)
        else:
            representation.backward(direction.view_as(representation))
        if observe is not None:
            observe(jacobian, rows, direction)
    for parameter, grad in zip(heads, head_grads, strict=True):
        parameter.grad = grad
    implied = strategy.implied_weights() if rows else None
    if implied is None:
        return None
    weights = torch.zeros(len(present), dtype=implied.dtype, device=implied.device)
    weights[rows] = implied
    return weights
