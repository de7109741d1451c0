"""Task gradients of the shared parameters, stacked into a Jacobian [T, P]."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor
from torch.autograd.graph import GradientEdge, Node, get_gradient_edge

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


def split_gradients(losses: Tensor, rows: Sequence[int], parameters: Sequence[Tensor], heads: Sequence[Tensor],
                    scales: Tensor | None = None) -> tuple[Jacobian, list[Tensor | None]]:
    """The Jacobian [len(rows), P] of the losses in ``rows`` w.r.t. ``parameters``, and ∇_heads Σ_t L_t.

    One backward pass per task gives both: its row (for the tasks in ``rows``) and its share of the
    heads' gradient, so no second pass through the heads is needed; the graph is kept. When ``losses``
    is a ``torch.stack`` of the task losses, each pass starts at that task's own loss (a GradientEdge
    of the stack), so it visits that task's head only, not every task's head with a zero gradient.
    ``scales`` [T] seed each task's pass instead of 1: row t is then ∇(s_t L_t) (e.g. s_t = 1/L_t gives ∇ log L_t).
    """
    starts = _task_starts(losses)
    seeds = list((torch.ones_like(losses) if scales is None else scales.to(losses)).unbind())
    if len(parameters) == 1 and heads:
        one_pass = _one_pass(losses, rows, parameters[0], heads, starts, seeds)
        if one_pass is not None:
            return one_pass
    wanted = set(rows)
    jacobian_rows: dict[int, Tensor] = {}
    head_grads: list[Tensor | None] = [None] * len(heads)
    for task, start in enumerate(starts):
        inputs = [*parameters, *heads] if task in wanted else list(heads)
        if start is None or not inputs:
            grads: Sequence[Tensor | None] = [None] * len(inputs)
        else:
            grads = torch.autograd.grad(start, inputs, grad_outputs=seeds[task], retain_graph=True, allow_unused=True)
        if task in wanted:
            jacobian_rows[task] = _flat(grads[:len(parameters)], parameters, losses)
        for index, grad in enumerate(grads[len(grads) - len(heads):]):
            if grad is not None:
                previous = head_grads[index]
                head_grads[index] = grad if previous is None else previous + grad
    if not rows:
        return losses.new_zeros((0, sum(p.numel() for p in parameters))), head_grads
    return torch.stack([jacobian_rows[task] for task in rows]), head_grads


def _one_pass(losses: Tensor, rows: Sequence[int], representation: Tensor, heads: Sequence[Tensor],
              starts: Sequence[GradientEdge | None],
              seeds: Sequence[Tensor]) -> tuple[Jacobian, list[Tensor | None]] | None:
    """``split_gradients`` w.r.t. one tensor z in a single backward pass, when each task reaches z through
    nodes of its own (its head): hooks on the nodes that feed z read each task's ∇_z L_t before they add up.

    None when two tasks share a node on their way to z (then one pass cannot tell them apart).
    """
    target = get_gradient_edge(representation)
    feeding: list[list[tuple[Node, int]]] = []  # per task: (node, input slot) pairs that feed z
    owner: dict[Node, int] = {}
    for task, start in enumerate(starts):
        feeding.append([])
        pending = [start.node] if start is not None else []
        while pending:
            node = pending.pop()
            if node in owner:
                if owner[node] != task:
                    return None
                continue
            owner[node] = task
            for slot, (following, number) in enumerate(node.next_functions):
                if following is target.node and number == target.output_nr:
                    feeding[task].append((node, slot))
                elif following is not None and following is not target.node and owner.get(following) != task:
                    pending.append(following)
    captured: list[Tensor | None] = [None] * len(starts)

    def capture(task: int, slot: int) -> Callable[[Sequence[Tensor | None], Sequence[Tensor | None]], None]:
        def hook(grad_inputs: Sequence[Tensor | None], grad_outputs: Sequence[Tensor | None]) -> None:
            grad, previous = grad_inputs[slot], captured[task]
            if grad is not None:
                captured[task] = grad if previous is None else previous + grad
        return hook

    handles = [node.register_hook(capture(task, slot)) for task in range(len(starts)) for node, slot in feeding[task]]
    try:
        outputs = [start for start in starts if start is not None]
        upstream = [seed for seed, start in zip(seeds, starts, strict=True) if start is not None]
        grads = torch.autograd.grad(outputs, [representation, *heads], grad_outputs=upstream, retain_graph=True,
                                    allow_unused=True) if outputs else [None] * (len(heads) + 1)
    finally:
        for handle in handles:
            handle.remove()
    zeros = torch.zeros_like(representation)
    flat = [(grad if (grad := captured[task]) is not None else zeros).reshape(-1) for task in rows]
    jacobian = torch.stack(flat) if flat else losses.new_zeros((0, representation.numel()))
    return jacobian, list(grads[1:])


def _task_starts(losses: Tensor) -> list[GradientEdge | None]:
    """Where each task's backward pass starts: its loss before ``torch.stack`` when the graph shows one."""
    node = losses.grad_fn
    if node is not None and type(node).__name__ == "StackBackward0" and len(node.next_functions) == len(losses):
        return [None if function is None else GradientEdge(function, number)
                for function, number in node.next_functions]
    return [get_gradient_edge(loss) if loss.requires_grad else None for loss in losses]


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
