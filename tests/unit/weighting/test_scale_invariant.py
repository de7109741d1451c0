"""The scale-invariant loss Σ log L (Navon et al., 2022's SI baseline)."""

from __future__ import annotations

import math

import torch
from torch.testing import assert_close

from mtl_core.weighting import LossWeighting, StepContext, create


def scale_invariant() -> LossWeighting:
    strategy = create("scale_invariant")
    assert isinstance(strategy, LossWeighting)
    return strategy


def context(n_tasks: int, present: tuple[bool, ...] | None = None) -> StepContext:
    return StepContext(1, 0, tuple(f"t{index}" for index in range(n_tasks)), present=present)


def test_two_tasks_by_hand() -> None:
    total, weights = scale_invariant().combine(torch.tensor([2.0, 0.5]), context(2))
    # ln 2 + ln 0.5 = 0; weights 1/L = [0.5, 2]
    assert_close(total, torch.tensor(0.0))
    assert_close(weights, torch.tensor([0.5, 2.0]))


def test_scaling_one_loss_leaves_the_model_gradient_unchanged() -> None:
    def gradient(scale: float) -> torch.Tensor:
        x = torch.tensor(1.5, requires_grad=True)
        total, _ = scale_invariant().combine(torch.stack([scale * x**2, 3.0 * x]), context(2))
        total.backward()
        assert x.grad is not None
        return x.grad

    # d/dx [ln(c x²) + ln(3x)] = 2/x + 1/x = 2 at x = 1.5, whatever c
    assert_close(gradient(1.0), torch.tensor(2.0))
    assert_close(gradient(100.0), torch.tensor(2.0))


def test_a_task_without_labels_or_with_a_zero_loss_is_left_out() -> None:
    total, weights = scale_invariant().combine(torch.tensor([math.e, 0.0, 4.0]), context(3, (True, False, True)))
    assert_close(total, torch.tensor(1.0 + math.log(4.0)))
    assert_close(weights, torch.tensor([1 / math.e, 0.0, 0.25]))
    total, weights = scale_invariant().combine(torch.tensor([0.0, 0.0]), context(2))
    assert float(total) == 0.0 and torch.equal(weights, torch.zeros(2))


def test_the_weights_are_the_gradient_of_the_total() -> None:
    losses = torch.tensor([0.3, 1.7, 5.0], requires_grad=True)
    total, weights = scale_invariant().combine(losses, context(3))
    total.backward()
    assert losses.grad is not None
    assert_close(losses.grad, weights)
