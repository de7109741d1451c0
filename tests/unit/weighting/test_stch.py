"""STCH (Lin et al., 2024): a Σ log L warm-up, then a smooth maximum of the nadir-normalised log losses."""

from __future__ import annotations

import math

import pytest
import torch
from torch.testing import assert_close

from mtl_core.errors import ConfigError
from mtl_core.weighting import LossWeighting, StepContext, create

TASKS = ("a", "b")


def stch(**hparams: object) -> LossWeighting:
    strategy = create("stch", **hparams)
    assert isinstance(strategy, LossWeighting)
    return strategy


def after_warmup(epochs: int = 5, last: tuple[float, float] = (2.0, 1.0), **kwargs: object) -> StepContext:
    history = tuple((9.0, 9.0) for _ in range(epochs - 1)) + (last,)
    return StepContext(epochs + 1, 100, TASKS, epoch_losses=history, **kwargs)  # type: ignore[arg-type]


def test_the_warm_up_trains_on_the_sum_of_log_losses() -> None:
    total, weights = stch().combine(torch.tensor([2.0, 0.5]), StepContext(5, 0, TASKS))
    # ln 2 + ln 0.5 = 0; weights 1/L = [0.5, 2]
    assert_close(total, torch.tensor(0.0))
    assert_close(weights, torch.tensor([0.5, 2.0]))


def test_after_the_warm_up_by_hand() -> None:
    total, weights = stch().combine(torch.tensor([1.0, 1.0]), after_warmup())
    # nadir = the last warm-up epoch's mean losses [2, 1]; f = ln(L / nadir) = [-0.693147, 0];
    # total = T μ ln(e^f1 + e^f2) = 2 ln(0.5 + 1) = 0.810930; softmax(f) = [1/3, 2/3];
    # weights T softmax / L = [2/3, 4/3]
    assert_close(total, torch.tensor(0.810930))
    assert_close(weights, torch.tensor([2 / 3, 4 / 3]))


def test_a_smaller_mu_leans_on_the_worst_task() -> None:
    _, weights = stch(mu=0.1).combine(torch.tensor([1.0, 1.0]), after_warmup())
    # softmax(f/0.1) = [e^-6.931472, 1] / (1 + 2^-10) → weights ≈ 2·[0.000976, 0.999024]
    assert_close(weights, torch.tensor([2 / 1025, 2 * 1024 / 1025]))


def test_the_weights_are_the_gradient_of_the_total() -> None:
    losses = torch.tensor([0.7, 1.9], requires_grad=True)
    total, weights = stch().combine(losses, after_warmup())
    total.backward()
    assert losses.grad is not None
    assert_close(losses.grad, weights)


def test_the_ideal_point_objective_by_hand() -> None:
    strategy = stch(objective="ideal", warmup_epochs=1)
    strategy.combine(torch.tensor([2.0, 3.0]), StepContext(1, 0, TASKS))  # warm-up step: z = [2, 3]
    total, weights = strategy.combine(torch.tensor([3.0, 4.0]), StepContext(2, 1, TASKS))
    # λ = 1/2, L - z = [1, 1]: total = ln(2 e^0.5) = 0.5 + 0.693147 = 1.193147; weights λ softmax = [0.25, 0.25]
    assert_close(total, torch.tensor(1.193147))
    assert_close(weights, torch.tensor([0.25, 0.25]))
    total, weights = strategy.combine(torch.tensor([1.0, 4.0]), StepContext(2, 2, TASKS))
    # z = [1, 3]: L - z = [0, 1] → total = ln(1 + e^0.5) = 0.974077; weights ½ [1, e^0.5] / (1 + e^0.5)
    assert_close(total, torch.tensor(math.log(1.0 + math.exp(0.5))))
    assert_close(weights, 0.5 * torch.tensor([1.0, math.exp(0.5)]) / (1.0 + math.exp(0.5)))


def test_without_warm_up_the_nadir_is_the_runs_first_loss() -> None:
    context = StepContext(1, 0, TASKS, initial_losses=(2.0, 1.0))
    total, _ = stch(warmup_epochs=0).combine(torch.tensor([1.0, 1.0]), context)
    assert_close(total, torch.tensor(0.810930))


def test_a_task_without_labels_is_left_out() -> None:
    total, weights = stch().combine(torch.tensor([1.0, 0.0]), after_warmup(present=(True, False)))
    # only f_a = ln(1/2): total = 2·ln(e^f_a) = 2·(-0.693147); weight 2·1/1
    assert_close(total, torch.tensor(-1.386294))
    assert_close(weights, torch.tensor([2.0, 0.0]))


def test_a_task_unlabelled_in_the_nadir_epoch_takes_its_current_loss() -> None:
    total, weights = stch().combine(torch.tensor([1.0, 3.0]), after_warmup(last=(2.0, 0.0)))
    # nadir = [2, 3 (its loss now)] → f = [ln 0.5, 0], as in the hand-worked case
    assert_close(total, torch.tensor(0.810930))


def test_mu_must_be_positive() -> None:
    with pytest.raises(ConfigError, match=r"strategy\.mu"):
        create("stch", mu=0.0)
