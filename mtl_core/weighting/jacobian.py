"""Task gradients of the shared parameters, stacked into a Jacobian [T, P]."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from mtl_core.weighting.base import Jacobian


def task_gradients(losses: Tensor, parameters: Sequence[Tensor]) -> Jacobian:
    """One backward pass per task (graph retained): row t is ∇_θ L_t flattened over ``parameters``.

    A task whose loss does not depend on some parameter (e.g. no labelled rows in the batch) gets zeros there.
    On CPU this measured faster than one batched pass (see bench/), so it is the default.
    """
    rows = []
    for loss in losses:
        grads = torch.autograd.grad(loss, parameters, retain_graph=True, allow_unused=True)
        rows.append(torch.cat([
            (g if g is not None else torch.zeros_like(p)).reshape(-1) for g, p in zip(grads, parameters, strict=True)
        ]))
    return torch.stack(rows)


def write_direction(direction: Tensor, parameters: Sequence[Tensor]) -> None:
    """Store a flat direction [P] as the ``.grad`` of the parameters it was taken over."""
    offset = 0
    for parameter in parameters:
        size = parameter.numel()
        parameter.grad = direction[offset:offset + size].view_as(parameter).clone()
        offset += size
