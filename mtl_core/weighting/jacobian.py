"""Task gradients of the shared parameters, stacked into a Jacobian [T, P]."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor
from torch.autograd.graph import GradientEdge

from mtl_core.weighting.base import Jacobian


def task_gradients(losses: Tensor, parameters: Sequence[Tensor], mode: str = "per_task") -> Jacobian:
    """Row t is ∇_θ L_t flattened over ``parameters``; the graph is kept for a later backward.

    ``per_task``: one backward pass per task. ``batched``: one vectorised pass over the T unit
    vectors (``is_grads_batched``). A parameter a loss does not depend on gets zeros. On CPU the
    per-task passes measured faster (see bench/), so they are the default.
    """
    if not parameters:  # nothing shared (e.g. single_task): an empty Jacobian [T, 0]
        return losses.new_zeros((len(losses), 0))
    if mode == "batched":
        return _batched(losses, parameters)
    rows = []
    for loss in losses:
        grads = torch.autograd.grad(loss, parameters, retain_graph=True, allow_unused=True)
        rows.append(torch.cat([
            (g if g is not None else torch.zeros_like(p)).reshape(-1) for g, p in zip(grads, parameters, strict=True)
        ]))
    return torch.stack(rows)


def split_gradients(losses: Tensor, rows: Sequence[int], parameters: Sequence[Tensor],
                    heads: Sequence[Tensor]) -> tuple[Jacobian, list[Tensor | None]]:
    """The Jacobian [len(rows), P] of the losses in ``rows`` w.r.t. ``parameters``, and ∇_heads Σ_t L_t.

    One backward pass per task gives both: its row (for the tasks in ``rows``) and its share of the
    heads' gradient, so no second pass through the heads is needed; the graph is kept. When ``losses``
    is a ``torch.stack`` of the task losses, each pass starts at that task's own loss (a GradientEdge
    of the stack), so it visits that task's head only, not every task's head with a zero gradient.
    """
    starts = _task_starts(losses)
    wanted = set(rows)
    jacobian_rows: dict[int, Tensor] = {}
    head_grads: list[Tensor | None] = [None] * len(heads)
    for task, start in enumerate(starts):
        inputs = [*parameters, *heads] if task in wanted else list(heads)
        if start is None or not inputs:
            grads: Sequence[Tensor | None] = [None] * len(inputs)
        else:
            grads = torch.autograd.grad(start, inputs, grad_outputs=losses.new_ones(()), retain_graph=True,
                                        allow_unused=True)
        if task in wanted:
            jacobian_rows[task] = _flat(grads[:len(parameters)], parameters, losses)
        for index, grad in enumerate(grads[len(grads) - len(heads):]):
            if grad is not None:
                previous = head_grads[index]
                head_grads[index] = grad if previous is None else previous + grad
    if not rows:
        return losses.new_zeros((0, sum(p.numel() for p in parameters))), head_grads
    return torch.stack([jacobian_rows[task] for task in rows]), head_grads


def _task_starts(losses: Tensor) -> list[Tensor | GradientEdge | None]:
    """Where each task's backward pass starts: its loss before ``torch.stack`` when the graph shows one."""
    node = losses.grad_fn
    if node is not None and type(node).__name__ == "StackBackward0" and len(node.next_functions) == len(losses):
        return [None if function is None else GradientEdge(function, number)
                for function, number in node.next_functions]
    return [loss if loss.requires_grad else None for loss in losses]


def _flat(grads: Sequence[Tensor | None], parameters: Sequence[Tensor], like: Tensor) -> Tensor:
    """The gradients as one flat row [P]; zeros for a parameter the loss does not reach."""
    if not parameters:
        return like.new_zeros(0)
    return torch.cat([(g if g is not None else torch.zeros_like(p)).reshape(-1)
                      for g, p in zip(grads, parameters, strict=True)])


def write_direction(direction: Tensor, parameters: Sequence[Tensor]) -> None:
    """Store a flat direction [P] as the ``.grad`` of the parameters it was taken over."""
    offset = 0
    for parameter in parameters:
        size = parameter.numel()
        parameter.grad = direction[offset:offset + size].view_as(parameter).clone()
        offset += size


def _batched(losses: Tensor, parameters: Sequence[Tensor]) -> Jacobian:
    eye = torch.eye(len(losses), device=losses.device, dtype=losses.dtype)
    grads = torch.autograd.grad(losses, parameters, grad_outputs=eye, retain_graph=True, allow_unused=True,
                                is_grads_batched=True)
    return torch.cat([
        (g if g is not None else torch.zeros(len(losses), *p.shape, device=p.device, dtype=p.dtype)).flatten(1)
        for g, p in zip(grads, parameters, strict=True)
    ], dim=1)


def gradient_norms(losses: Tensor, parameters: Sequence[Tensor], create_graph: bool = False) -> Tensor:
    """[T] ‖∇_θ L_t‖ over ``parameters``; differentiable when ``create_graph`` (seed 002's penalty needs it)."""
    if not parameters:
        return losses.new_zeros(len(losses))
    norms = []
    for loss in losses:
        grads = torch.autograd.grad(loss, parameters, retain_graph=True, create_graph=create_graph, allow_unused=True)
        flat = [g.reshape(-1) for g in grads if g is not None]
        # vector_norm's backward is finite at 0 (sqrt of a summed square is not): an unlabelled task's gradient is 0
        norms.append(torch.linalg.vector_norm(torch.cat(flat)) if flat else loss.new_zeros(()))
    return torch.stack(norms)
