"""Uncertainty weighting (Kendall et al., 2018): learned log-variances, two forms of the objective."""

from __future__ import annotations

import math

import pytest
import torch
from torch.testing import assert_close

from mtl_core.errors import ConfigError
from mtl_core.weighting import LossWeighting, StepContext, create

TASKS = ("a", "b")


def uncertainty(**hparams: object) -> LossWeighting:
    strategy = create("uncertainty", **hparams)
    assert isinstance(strategy, LossWeighting)
    strategy.check_tasks(TASKS)
    return strategy


def set_log_vars(strategy: LossWeighting, values: list[float]) -> None:
    (log_vars,) = strategy.parameters()
    with torch.no_grad():
        log_vars.copy_(torch.tensor(values))


def test_the_simplified_form_by_hand() -> None:
    strategy = uncertainty()
    set_log_vars(strategy, [0.0, math.log(2.0)])
    total, weights = strategy.combine(torch.tensor([2.0, 3.0]), StepContext(1, 0, TASKS))
    # exp(-0)·2 + 0 + exp(-ln 2)·3 + ln 2 = 2 + 1.5 + 0.693147 = 4.193147; weights exp(-s) = [1, 0.5]
    assert_close(total, torch.tensor(4.193147))
    assert_close(weights, torch.tensor([1.0, 0.5]))


def test_the_papers_form_has_the_halves() -> None:
    strategy = uncertainty(form="kendall")
    set_log_vars(strategy, [0.0, math.log(2.0)])
    total, weights = strategy.combine(torch.tensor([2.0, 3.0]), StepContext(1, 0, TASKS))
    # ½·2 + 0 + ½·0.5·3 + ½ ln 2 = 1 + 0.75 + 0.346574 = 2.096574; weights ½ exp(-s) = [0.5, 0.25]
    assert_close(total, torch.tensor(2.096574))
    assert_close(weights, torch.tensor([0.5, 0.25]))


def test_the_log_variances_descend_towards_the_log_of_each_loss() -> None:
    strategy = uncertainty()
    losses = torch.tensor([2.0, 0.5])
    total, _ = strategy.combine(losses, StepContext(1, 0, TASKS))
    total.backward()
    (log_vars,) = strategy.parameters()
    # ∂/∂s (exp(-s) L + s) = 1 - exp(-s) L = 1 - L at s = 0: negative for L > 1 (s rises), positive below
    assert log_vars.grad is not None
    assert_close(log_vars.grad, torch.tensor([-1.0, 0.5]))


def test_it_starts_as_the_plain_sum() -> None:
    total, weights = uncertainty().combine(torch.tensor([0.7, 1.3]), StepContext(1, 0, TASKS))
    assert_close(total, torch.tensor(2.0))
    assert_close(weights, torch.ones(2))


def test_a_task_without_labels_contributes_nothing_and_its_log_variance_gets_no_gradient() -> None:
    strategy = uncertainty()
    set_log_vars(strategy, [0.5, 0.5])
    total, weights = strategy.combine(torch.tensor([2.0, 0.0]), StepContext(1, 0, TASKS, present=(True, False)))
    total.backward()
    (log_vars,) = strategy.parameters()
    assert_close(total, torch.tensor(2.0 * math.exp(-0.5) + 0.5))
    assert weights[1] == 0.0 and log_vars.grad is not None and log_vars.grad[1] == 0.0


def test_reset_zeroes_the_same_tensor_the_optimiser_holds() -> None:
    strategy = uncertainty()
    (before,) = strategy.parameters()
    set_log_vars(strategy, [1.0, -1.0])
    strategy.reset()
    strategy.check_tasks(TASKS)
    (after,) = strategy.parameters()
    assert after is before and torch.equal(after, torch.zeros(2))


def test_the_losses_dtype_is_followed_and_the_gradient_reaches_the_stored_tensor() -> None:
    strategy = uncertainty()
    total, weights = strategy.combine(torch.tensor([1.0, 2.0], dtype=torch.float64), StepContext(1, 0, TASKS))
    total.backward()
    (log_vars,) = strategy.parameters()
    assert total.dtype == torch.float64 and weights.dtype == torch.float64 and log_vars.grad is not None


def test_an_unknown_form_is_refused_naming_the_key() -> None:
    with pytest.raises(ConfigError, match=r"strategy\.form"):
        create("uncertainty", form="halved")
