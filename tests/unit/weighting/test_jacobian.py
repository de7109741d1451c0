"""task_gradients, split_gradients: one row per task, that task's own autograd gradient; write_direction stores it."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from mtl_core.weighting import gradient_norms, split_gradients, task_gradients, write_direction


class Tiny(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        generator = torch.Generator().manual_seed(0)
        self.trunk = nn.Linear(3, 4)
        self.heads = nn.ModuleList([nn.Linear(4, 1), nn.Linear(4, 2)])
        with torch.no_grad():
            for parameter in self.parameters():
                parameter.copy_(torch.randn(parameter.shape, generator=generator))

    def losses(self, x: torch.Tensor) -> torch.Tensor:
        shared = torch.tanh(self.trunk(x))
        first = self.heads[0](shared).square().mean()
        second = nn.functional.cross_entropy(self.heads[1](shared), torch.tensor([0, 1, 1, 0, 1]))
        return torch.stack([first, second])


def grad_of(parameter: torch.Tensor) -> torch.Tensor:
    assert parameter.grad is not None
    return parameter.grad


def inputs() -> torch.Tensor:
    return torch.randn(5, 3, generator=torch.Generator().manual_seed(1))


def test_each_row_is_that_tasks_gradient_of_the_shared_parameters() -> None:
    model = Tiny()
    shared = list(model.trunk.parameters())
    jacobian = task_gradients(model.losses(inputs()), shared)  # [T, P]
    assert tuple(jacobian.shape) == (2, 4 * 3 + 4)
    for task in range(2):
        model.zero_grad()
        model.losses(inputs())[task].backward()
        expected = torch.cat([grad_of(parameter).reshape(-1) for parameter in shared])
        torch.testing.assert_close(jacobian[task], expected)


def test_the_batched_pass_gives_the_same_jacobian_as_one_pass_per_task() -> None:
    model = Tiny()
    shared = list(model.parameters())
    losses = model.losses(inputs())
    torch.testing.assert_close(task_gradients(losses, shared, mode="batched"), task_gradients(losses, shared))


def test_gradient_norms_are_the_norms_of_the_jacobian_rows() -> None:
    model = Tiny()
    shared = list(model.trunk.parameters())
    losses = model.losses(inputs())
    torch.testing.assert_close(gradient_norms(losses, shared), task_gradients(losses, shared).norm(dim=1))


def test_differentiable_gradient_norms_carry_a_graph() -> None:
    model = Tiny()
    norms = gradient_norms(model.losses(inputs()), list(model.trunk.parameters()), create_graph=True)
    norms.sum().backward()
    assert model.trunk.weight.grad is not None and bool(model.trunk.weight.grad.abs().sum() > 0)


def test_a_parameter_a_task_does_not_use_gets_zeros() -> None:
    model = Tiny()
    head = list(model.heads[0].parameters())
    for mode in ("per_task", "batched"):
        jacobian = task_gradients(model.losses(inputs()), head, mode=mode)
        assert bool(jacobian[0].abs().sum() > 0) and torch.equal(jacobian[1], torch.zeros(5))


def test_the_graph_survives_for_a_later_backward() -> None:
    model = Tiny()
    losses = model.losses(inputs())
    task_gradients(losses, list(model.trunk.parameters()))
    losses.sum().backward()  # would raise if the graph had been freed
    assert model.trunk.weight.grad is not None


def test_write_direction_stores_a_flat_direction_as_the_parameters_grads() -> None:
    model = Tiny()
    shared = list(model.trunk.parameters())
    direction = torch.arange(16.0)
    write_direction(direction, shared)
    assert torch.equal(grad_of(model.trunk.weight), torch.arange(12.0).view(4, 3))
    assert torch.equal(grad_of(model.trunk.bias), torch.arange(12.0, 16.0))
    direction[0] = 99.0
    assert float(grad_of(model.trunk.weight)[0, 0]) == 0.0  # a copy, not a view of the caller's tensor


def test_split_gradients_give_the_rows_of_task_gradients_and_the_heads_gradient_of_the_sum() -> None:
    model, x = Tiny(), torch.randn(5, 3, generator=torch.Generator().manual_seed(1))
    trunk, heads = list(model.trunk.parameters()), list(model.heads.parameters())
    for rows in ([0, 1], [1], []):
        losses = model.losses(x)
        jacobian, head_grads = split_gradients(losses, rows, trunk, heads)
        expected = task_gradients(losses[rows], trunk) if rows else torch.zeros(0, 16)
        summed = torch.autograd.grad(losses.sum(), heads, retain_graph=True)
        assert torch.allclose(jacobian, expected, atol=1e-6) and jacobian.shape == (len(rows), 16)
        assert all(torch.allclose(mine, theirs, atol=1e-6) for mine, theirs in zip(head_grads, summed, strict=True))


def test_split_gradients_also_work_on_losses_that_are_not_a_stack() -> None:
    model, x = Tiny(), torch.randn(5, 3, generator=torch.Generator().manual_seed(2))
    trunk, heads = list(model.trunk.parameters()), list(model.heads.parameters())
    losses = model.losses(x) * torch.tensor([1.0, 2.0])  # the last node is a product, not the stack
    jacobian, head_grads = split_gradients(losses, [0, 1], trunk, heads)
    assert torch.allclose(jacobian, task_gradients(losses, trunk), atol=1e-6)
    summed = torch.autograd.grad(losses.sum(), heads, retain_graph=True)
    assert all(torch.allclose(mine, theirs, atol=1e-6) for mine, theirs in zip(head_grads, summed, strict=True))


def representation_losses(model: Tiny, x: torch.Tensor, shared_step: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """Losses from the heads on z; with ``shared_step`` both heads read z through one common node."""
    z = torch.tanh(model.trunk(x))
    seen = z * 2.0 if shared_step else z
    first = model.heads[0](seen).square().mean()
    second = nn.functional.cross_entropy(model.heads[1](seen), torch.tensor([0, 1, 1, 0, 1]))
    return torch.stack([first, second]), z


@pytest.mark.parametrize("shared_step", [False, True])  # one pass with hooks; per-task passes
def test_split_gradients_wrt_the_representation_match_the_per_task_gradients(shared_step: bool) -> None:
    model, x = Tiny(), torch.randn(5, 3, generator=torch.Generator().manual_seed(3))
    heads = list(model.heads.parameters())
    for rows in ([0, 1], [1], []):
        losses, z = representation_losses(model, x, shared_step)
        jacobian, head_grads = split_gradients(losses, rows, [z], heads)
        expected = task_gradients(losses[rows], [z]) if rows else torch.zeros(0, 20)
        summed = torch.autograd.grad(losses.sum(), heads, retain_graph=True)
        assert jacobian.shape == (len(rows), 20) and torch.allclose(jacobian, expected, atol=1e-6)
        assert all(torch.allclose(mine, theirs, atol=1e-6) for mine, theirs in zip(head_grads, summed, strict=True))


def test_scaled_passes_give_the_gradients_of_the_log_losses() -> None:
    model, x = Tiny(), torch.randn(5, 3, generator=torch.Generator().manual_seed(4))
    trunk, heads = list(model.trunk.parameters()), list(model.heads.parameters())
    losses = model.losses(x)
    jacobian, head_grads = split_gradients(losses, [0, 1], trunk, heads, scales=1.0 / losses.detach())
    logs = losses.log()
    assert torch.allclose(jacobian, task_gradients(logs, trunk), atol=1e-6)
    summed = torch.autograd.grad(logs.sum(), heads, retain_graph=True)
    assert all(torch.allclose(mine, theirs, atol=1e-6) for mine, theirs in zip(head_grads, summed, strict=True))
