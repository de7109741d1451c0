"""FAMO (Liu et al., 2023): c Σ z log L, the logits learned from the change of log losses."""

from __future__ import annotations

import math

import torch
from torch.testing import assert_close

from mtl_core.weighting import LossWeighting, StepContext, create

TASKS = ("a", "b")


def famo(**hparams: object) -> LossWeighting:
    strategy = create("famo", **hparams)
    assert isinstance(strategy, LossWeighting)
    strategy.check_tasks(TASKS)
    return strategy


def step(strategy: LossWeighting, losses: list[float], present: tuple[bool, ...] | None = None,
         ) -> tuple[torch.Tensor, torch.Tensor]:
    return strategy.combine(torch.tensor(losses), StepContext(1, 0, TASKS, present=present))


def test_the_first_step_by_hand() -> None:
    total, weights = step(famo(), [1.0, 4.0])
    # z = [0.5, 0.5]; c = 1 / (0.5/1 + 0.5/4) = 1.6; weights c z / L = [0.8, 0.2];
    # total = 1.6·0.5·(ln 1 + ln 4) = 0.8·1.386294 = 1.109035
    assert_close(total, torch.tensor(1.109035))
    assert_close(weights, torch.tensor([0.8, 0.2]))


def test_the_weights_are_the_gradient_of_the_total_and_sum_to_one() -> None:
    losses = torch.tensor([0.3, 2.0, 7.0], requires_grad=True)
    strategy = create("famo")
    assert isinstance(strategy, LossWeighting)
    total, weights = strategy.combine(losses, StepContext(1, 0, ("a", "b", "c")))
    total.backward()
    assert losses.grad is not None
    assert_close(losses.grad, weights)
    assert math.isclose(float(weights.sum()), 1.0, rel_tol=1e-6)


def test_algorithm_1s_plain_step_on_the_logits_by_hand() -> None:
    strategy = famo(update="sgd")
    step(strategy, [1.0, 4.0])
    _, weights = step(strategy, [0.5, 4.0])
    # δ = [ln 1 - ln 0.5, ln 4 - ln 4] = [0.693147, 0]; ∇_ξ zᵀδ = z ⊙ (δ - zᵀδ) = 0.5·[0.346574, -0.346574]
    # ξ = 0 - 0.025·([0.173287, -0.173287] + 0.001·0) = [-0.004332, 0.004332]; z = softmax(ξ) = [0.497834, 0.502166]
    # c = 1 / (0.497834/0.5 + 0.502166/4) = 1 / 1.121210 = 0.891893; weights = [0.888030, 0.111970]
    logits = strategy.logits_.detach()  # type: ignore[attr-defined]
    assert_close(logits, torch.tensor([-0.004332, 0.004332]), atol=1e-6, rtol=0)
    assert_close(weights, torch.tensor([0.888030, 0.111970]))


def test_adams_first_step_moves_each_logit_by_the_learning_rate() -> None:
    strategy = famo()
    step(strategy, [1.0, 4.0])
    step(strategy, [0.5, 4.0])
    # Adam's first step is lr·sign(gradient) (bias-corrected m/√v = g/|g|): ξ = [-0.025, 0.025]
    logits = strategy.logits_.detach()  # type: ignore[attr-defined]
    assert_close(logits, torch.tensor([-0.025, 0.025]), atol=1e-6, rtol=0)


def test_the_task_whose_loss_fell_less_gains_weight() -> None:
    strategy = famo()
    for value in [1.0, 0.8, 0.6, 0.4, 0.2]:
        _, weights = step(strategy, [value, 1.0])
    # the second loss never moves; its share of c z / L grows above the first step's 1/(1 + value)
    z = torch.softmax(strategy.logits_.detach(), dim=0)  # type: ignore[attr-defined]
    assert float(z[1]) > 0.5 and float(weights[1]) > 0.2 / 1.2


def test_a_task_without_labels_is_left_out_and_its_logit_waits_for_two_labelled_steps() -> None:
    strategy = famo(update="sgd", weight_decay=0.0)
    step(strategy, [1.0, 4.0])
    total, weights = step(strategy, [0.5, 0.0], present=(True, False))
    # only task a is summed: c = L_a / z_a, so its weight is 1 and b's is 0
    assert_close(weights, torch.tensor([1.0, 0.0]))
    assert bool(total.isfinite())
    logits = strategy.logits_.detach().clone()  # type: ignore[attr-defined]
    step(strategy, [0.25, 4.0])  # b is labelled again, but was not at the previous step: δ = [ln 2, 0]
    z = torch.softmax(logits, dim=0)
    # ξ moves by -β z ⊙ (δ - zᵀδ): [-β z_a z_b ln 2, +β z_a z_b ln 2]
    shift = 0.025 * float(z[0] * z[1]) * math.log(2.0)
    assert_close(strategy.logits_.detach() - logits, torch.tensor([-shift, shift]))  # type: ignore[attr-defined]


def test_reset_forgets_the_logits_and_the_last_losses() -> None:
    strategy = famo()
    step(strategy, [1.0, 4.0])
    step(strategy, [0.5, 4.0])
    strategy.reset()
    _, weights = step(strategy, [1.0, 4.0])
    assert_close(weights, torch.tensor([0.8, 0.2]))
