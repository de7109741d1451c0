"""IMTL-L (Liu et al., 2021): learned scales pull every scaled loss to 1."""

from __future__ import annotations

import math

import torch
from torch.testing import assert_close

from mtl_core.weighting import LossWeighting, StepContext, create

TASKS = ("a", "b")


def imtl_l() -> LossWeighting:
    strategy = create("imtl_l")
    assert isinstance(strategy, LossWeighting)
    strategy.check_tasks(TASKS)
    return strategy


def set_scales(strategy: LossWeighting, values: list[float]) -> None:
    (log_scales,) = strategy.parameters()
    with torch.no_grad():
        log_scales.copy_(torch.tensor(values))


def test_two_tasks_by_hand() -> None:
    strategy = imtl_l()
    set_scales(strategy, [0.0, math.log(2.0)])
    total, weights = strategy.combine(torch.tensor([2.0, 3.0]), StepContext(1, 0, TASKS))
    # e^0·2 - 0 + e^{ln 2}·3 - ln 2 = 2 + 6 - 0.693147 = 7.306853; weights e^s = [1, 2]
    assert_close(total, torch.tensor(7.306853))
    assert_close(weights, torch.tensor([1.0, 2.0]))


def test_the_scale_gradient_vanishes_where_the_scaled_loss_is_one() -> None:
    strategy = imtl_l()
    set_scales(strategy, [math.log(0.5), 0.0])
    total, _ = strategy.combine(torch.tensor([2.0, 3.0]), StepContext(1, 0, TASKS))
    total.backward()
    (log_scales,) = strategy.parameters()
    # ∂/∂s (e^s L - s) = e^s L - 1: 0.5·2 - 1 = 0 and 1·3 - 1 = 2
    assert log_scales.grad is not None
    assert_close(log_scales.grad, torch.tensor([0.0, 2.0]))


def test_it_mirrors_simplified_uncertainty_with_the_parameter_negated() -> None:
    imtl, uncertainty = imtl_l(), create("uncertainty")
    assert isinstance(uncertainty, LossWeighting)
    uncertainty.check_tasks(TASKS)
    set_scales(imtl, [0.3, -0.7])
    set_scales(uncertainty, [-0.3, 0.7])
    losses = torch.tensor([1.5, 0.25])
    assert_close(imtl.combine(losses, StepContext(1, 0, TASKS)), uncertainty.combine(losses, StepContext(1, 0, TASKS)))


def test_a_task_without_labels_contributes_nothing() -> None:
    strategy = imtl_l()
    set_scales(strategy, [0.5, 0.5])
    total, weights = strategy.combine(torch.tensor([2.0, 0.0]), StepContext(1, 0, TASKS, present=(True, False)))
    total.backward()
    (log_scales,) = strategy.parameters()
    assert_close(total, torch.tensor(2.0 * math.exp(0.5) - 0.5))
    assert weights[1] == 0.0 and log_scales.grad is not None and log_scales.grad[1] == 0.0


def test_reset_zeroes_the_same_tensor() -> None:
    strategy = imtl_l()
    (before,) = strategy.parameters()
    set_scales(strategy, [1.0, 2.0])
    strategy.reset()
    assert strategy.parameters()[0] is before and torch.equal(before, torch.zeros(2))
