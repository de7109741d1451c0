"""GLS (Chennupati et al., 2019): the geometric mean of the losses, in log space."""

from __future__ import annotations

import torch
from torch.testing import assert_close

from mtl_core.weighting import LossWeighting, StepContext, create


def gls() -> LossWeighting:
    strategy = create("gls")
    assert isinstance(strategy, LossWeighting)
    return strategy


def context(n_tasks: int, present: tuple[bool, ...] | None = None) -> StepContext:
    return StepContext(1, 0, tuple(f"t{index}" for index in range(n_tasks)), present=present)


def test_three_tasks_by_hand() -> None:
    total, weights = gls().combine(torch.tensor([2.0, 8.0, 4.0]), context(3))
    # (2·8·4)^(1/3) = 64^(1/3) = 4; weights G / (T L_t) = 4 / (3·[2, 8, 4]) = [2/3, 1/6, 1/3]
    assert_close(total, torch.tensor(4.0))
    assert_close(weights, torch.tensor([2 / 3, 1 / 6, 1 / 3]))


def test_the_weights_are_the_gradient_of_the_total() -> None:
    losses = torch.tensor([0.3, 1.7, 5.0, 0.01], requires_grad=True)
    total, weights = gls().combine(losses, context(4))
    total.backward()
    assert losses.grad is not None
    assert_close(losses.grad, weights)


def test_losses_whose_product_overflows_still_give_their_geometric_mean() -> None:
    total, weights = gls().combine(torch.tensor([1e20, 1e20, 1e-2]), context(3))
    # the float32 product 1e20·1e20 = 1e40 is inf; in log space: 10^((20 + 20 - 2)/3) = 10^12.6667 = 4.641589e12,
    # and the weights G / (3 L) = [1.547196e-8, 1.547196e-8, 1.547196e14]
    assert_close(total, torch.tensor(4.641589e12))
    assert_close(weights, torch.tensor([1.547196e-8, 1.547196e-8, 1.547196e14]))


def test_the_weights_do_not_change_when_every_loss_is_scaled_alike() -> None:
    losses = torch.tensor([0.5, 2.0, 3.0])
    assert_close(gls().combine(losses, context(3))[1], gls().combine(1000.0 * losses, context(3))[1])


def test_a_task_without_labels_or_with_a_zero_loss_is_left_out() -> None:
    total, weights = gls().combine(torch.tensor([4.0, 0.0, 9.0]), context(3, (True, False, True)))
    # (4·9)^(1/2) = 6; weights 6 / (2·[4, ·, 9]) = [0.75, 0, 1/3]
    assert_close(total, torch.tensor(6.0))
    assert_close(weights, torch.tensor([0.75, 0.0, 1 / 3]))
    total, weights = gls().combine(torch.tensor([4.0, 0.0, 9.0]), context(3))
    assert_close(total, torch.tensor(6.0))


def test_no_task_left_gives_a_zero_that_backpropagates() -> None:
    losses = torch.tensor([0.0, 0.0], requires_grad=True)
    total, weights = gls().combine(losses, context(2))
    total.backward()
    assert float(total) == 0.0 and torch.equal(weights, torch.zeros(2)) and losses.grad is not None
