"""Equal and static weights: the baselines."""

from __future__ import annotations

import pytest
import torch

from mtl_core.errors import ConfigError
from mtl_core.weighting import LossWeighting, StepContext, create

TASKS = ("quality", "good", "colour")


def loss_strategy(name: str, **hparams: object) -> LossWeighting:
    strategy = create(name, **hparams)
    assert isinstance(strategy, LossWeighting)
    return strategy


def context(tasks: tuple[str, ...] = TASKS) -> StepContext:
    return StepContext(epoch=1, step=0, task_names=tasks)


def test_equal_gives_every_task_weight_one() -> None:
    losses = torch.tensor([0.5, 3.0, 0.01])
    weights = loss_strategy("equal").weights(losses, context())
    assert torch.equal(weights, torch.ones(3))


def test_equal_combines_losses_into_their_plain_sum() -> None:
    losses = torch.tensor([0.5, 3.0, 0.25], requires_grad=True)
    total, weights = loss_strategy("equal").combine(losses, context())
    assert float(total.detach()) == 3.75 and not weights.requires_grad
    total.backward()
    assert losses.grad is not None and torch.equal(losses.grad, torch.ones(3))



def test_equal_sum_is_the_weighted_sum_bit_for_bit() -> None:
    strategy = loss_strategy("equal")
    tasks = tuple(f"t{index}" for index in range(7))
    losses = torch.rand(7, generator=torch.Generator().manual_seed(3), dtype=torch.float32) * 10
    total, weights = strategy.combine(losses, context(tasks))
    generic, generic_weights = LossWeighting.combine(strategy, losses, context(tasks))
    assert torch.equal(total, generic) and torch.equal(weights, generic_weights)

def test_static_weights_as_a_list_follow_task_order() -> None:
    strategy = loss_strategy("static", weights=[1.0, 0.5, 2.0])
    strategy.check_tasks(TASKS)
    assert torch.equal(strategy.weights(torch.ones(3), context()), torch.tensor([1.0, 0.5, 2.0]))


def test_static_weights_as_a_table_are_taken_by_name_and_default_to_one() -> None:
    strategy = loss_strategy("static", weights={"colour": 3.0, "quality": 0.5})
    strategy.check_tasks(TASKS)
    assert torch.equal(strategy.weights(torch.ones(3), context()), torch.tensor([0.5, 1.0, 3.0]))


def test_static_without_weights_is_equal() -> None:
    strategy = loss_strategy("static")
    strategy.check_tasks(TASKS)
    assert torch.equal(strategy.weights(torch.ones(3), context()), torch.ones(3))


def test_static_weights_of_the_wrong_length_name_strategy_weights() -> None:
    strategy = create("static", weights=[1.0, 2.0])
    with pytest.raises(ConfigError) as caught:
        strategy.check_tasks(TASKS)
    message = str(caught.value)
    assert message.startswith("strategy.weights = [1.0, 2.0] has 2 entries for 3 tasks")
    assert "quality, good, colour" in message


def test_static_weights_naming_an_unknown_task_are_refused() -> None:
    with pytest.raises(ConfigError, match=r"^strategy\.weights\.qualty: no task of that name"):
        create("static", weights={"qualty": 1.0}).check_tasks(TASKS)


def test_static_weights_all_zero_are_refused() -> None:
    with pytest.raises(ConfigError, match="at least one weight must be above 0"):
        create("static", weights=[0.0, 0.0, 0.0]).check_tasks(TASKS)


def test_negative_static_weights_are_refused_naming_the_entry() -> None:
    with pytest.raises(ConfigError, match=r"strategy\.weights\.1 = -2\.0: Input should be greater than or equal to 0"):
        create("static", weights=[1.0, -2.0, 1.0])


def test_static_checks_its_tasks_on_first_use_when_not_asked_before() -> None:
    with pytest.raises(ConfigError, match="strategy.weights"):
        loss_strategy("static", weights=[1.0]).weights(torch.ones(3), context())


def test_static_weights_follow_the_losses_dtype() -> None:
    strategy = loss_strategy("static", weights=[1.0, 2.0, 3.0])
    assert strategy.weights(torch.ones(3, dtype=torch.float64), context()).dtype == torch.float64


def test_hyper_parameters_are_reported_as_given() -> None:
    assert create("static", weights={"good": 2.0}).hparams() == {"weights": {"good": 2.0}}
    assert create("equal").hparams() == {}
