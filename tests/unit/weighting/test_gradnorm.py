"""GradNorm (Chen et al., 2018): weights learned from L_grad, the model trained on the weighted sum."""

from __future__ import annotations

import pytest
import torch
from torch.testing import assert_close

from mtl_core.errors import ConfigError
from mtl_core.weighting import LossWeighting, StepContext, create

TASKS = ("a", "b")


def gradnorm(**hparams: object) -> LossWeighting:
    strategy = create("gradnorm", **hparams)
    assert isinstance(strategy, LossWeighting)
    strategy.check_tasks(TASKS)
    return strategy


def context(norms: list[float], initial: tuple[float, ...] = (1.0, 1.0),
            present: tuple[bool, ...] | None = None) -> StepContext:
    return StepContext(1, 3, TASKS, initial_losses=initial, last_layer_grad_norms=torch.tensor(norms), present=present)


def test_two_tasks_by_hand_from_the_papers_equations() -> None:
    strategy = gradnorm()
    losses = torch.tensor([0.5, 0.25], requires_grad=True)
    total, weights = strategy.combine(losses, context([2.0, 1.0]))
    # w = [1, 1], ‖∇_W L‖ = [2, 1] → G = [2, 1], Ḡ = 1.5; L̃ = [0.5, 0.25] / [1, 1], mean 0.375,
    # r = [4/3, 2/3]; Ḡ r^1.5 = 1.5·[1.539601, 0.544331] = [2.309401, 0.816497];
    # L_grad = |2 - 2.309401| + |1 - 0.816497| = 0.309401 + 0.183503 = 0.492904;
    # total = 1·0.5 + 1·0.25 + 0.492904 = 1.242904
    assert_close(total, torch.tensor(1.242904))
    assert_close(weights, torch.ones(2))
    total.backward()
    (task_weights,) = strategy.parameters()
    # ∂L_grad/∂w_t = sign(G_t - target_t)·‖∇_W L_t‖ = [-2, +1]; the losses see the detached weights only
    assert task_weights.grad is not None and losses.grad is not None
    assert_close(task_weights.grad, torch.tensor([-2.0, 1.0]))
    assert_close(losses.grad, torch.ones(2))


def test_after_a_step_the_weights_are_renormalised_to_sum_to_the_task_count() -> None:
    strategy = gradnorm()
    total, _ = strategy.combine(torch.tensor([0.5, 0.25]), context([2.0, 1.0]))
    total.backward()
    optimizer = torch.optim.SGD(strategy.parameters(), lr=0.1)
    optimizer.step()
    strategy.after_step()
    # w = [1, 1] - 0.1·[-2, 1] = [1.2, 0.9], then ·2/2.1 = [1.142857, 0.857143]
    assert_close(strategy.parameters()[0].detach(), torch.tensor([1.142857, 0.857143]))
    _, weights = strategy.combine(torch.tensor([0.5, 0.25]), context([2.0, 1.0]))
    assert_close(weights, torch.tensor([1.142857, 0.857143]))


def test_a_smaller_alpha_pulls_the_targets_less_apart() -> None:
    total, _ = gradnorm(alpha=0.5).combine(torch.tensor([0.5, 0.25]), context([2.0, 1.0]))
    # r^0.5 = [1.154701, 0.816497]; targets 1.5·r^0.5 = [1.732051, 1.224745];
    # L_grad = |2 - 1.732051| + |1 - 1.224745| = 0.267949 + 0.224745 = 0.492694; total = 0.75 + 0.492694
    assert_close(total, torch.tensor(1.242694))


def test_training_rates_use_the_runs_first_losses() -> None:
    total, _ = gradnorm().combine(torch.tensor([0.5, 0.25]), context([1.0, 1.0], initial=(0.5, 0.25)))
    # L̃ = [1, 1] → r = [1, 1]; G = [1, 1] = Ḡ·r^α → L_grad = 0
    assert_close(total, torch.tensor(0.75))


def test_a_task_without_labels_is_left_out_of_the_loss_and_of_l_grad() -> None:
    strategy = gradnorm()
    total, weights = strategy.combine(torch.tensor([0.5, 0.0]), context([2.0, 0.0], present=(True, False)))
    total.backward()
    # one task: G = [2], Ḡ = 2, r = [1] → L_grad = 0; the absent weight gets no gradient
    assert_close(total, torch.tensor(0.5))
    assert_close(weights, torch.tensor([1.0, 0.0]))
    grad = strategy.parameters()[0].grad
    assert grad is not None and float(grad[1]) == 0.0


def test_a_task_unlabelled_at_the_first_step_takes_its_first_loss_as_initial() -> None:
    strategy = gradnorm()
    strategy.combine(torch.tensor([0.5, 0.0]), context([1.0, 0.0], initial=(0.5, 0.0), present=(True, False)))
    total, _ = strategy.combine(torch.tensor([0.5, 2.0]), context([1.0, 1.0], initial=(0.5, 0.0)))
    # L(0) = [0.5 (the run's), 2.0 (its first loss)] → L̃ = [1, 1] → L_grad = 0
    assert_close(total, torch.tensor(2.5))


def test_without_gradient_norms_it_is_the_weighted_sum() -> None:
    total, _ = gradnorm().combine(torch.tensor([0.5, 0.25]), StepContext(1, 0, TASKS))
    assert_close(total, torch.tensor(0.75))


def test_reset_restores_weights_of_one_in_the_same_tensor() -> None:
    strategy = gradnorm()
    (before,) = strategy.parameters()
    with torch.no_grad():
        before.copy_(torch.tensor([1.5, 0.5]))
    strategy.reset()
    assert strategy.parameters()[0] is before and torch.equal(before.detach(), torch.ones(2))


def test_it_asks_the_trainer_for_last_layer_gradient_norms() -> None:
    assert create("gradnorm").grad_norms == "last_layer"


@pytest.mark.parametrize("alpha", [0.0, -1.0])
def test_alpha_must_be_positive(alpha: float) -> None:
    with pytest.raises(ConfigError, match=r"strategy\.alpha"):
        create("gradnorm", alpha=alpha)
