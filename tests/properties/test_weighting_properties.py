"""Every registered strategy, with its default hyper-parameters, gives finite weights or directions."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings

from mtl_core import weighting
from mtl_core.weighting import LossWeighting, StepContext
from tests.properties.generators import jacobians, loss_vectors

LOSS = weighting.available(kind="loss")
GRADIENT = weighting.available(kind="gradient")


def context(n_tasks: int) -> StepContext:
    names = tuple(f"task_{index}" for index in range(n_tasks))
    return StepContext(epoch=1, step=0, task_names=names, initial_losses=(1.0,) * n_tasks,
                       last_layer_grad_norms=torch.ones(n_tasks))


def loss_strategy(name: str) -> LossWeighting:
    strategy = weighting.create(name)
    assert isinstance(strategy, LossWeighting)
    return strategy


def test_every_strategy_is_of_one_of_the_two_kinds() -> None:
    assert sorted(LOSS + GRADIENT) == weighting.available() and LOSS


@pytest.mark.parametrize("name", LOSS)
@settings(max_examples=60, deadline=None)
@given(losses=loss_vectors())
def test_loss_weights_are_finite_with_one_per_task(name: str, losses: torch.Tensor) -> None:
    strategy = loss_strategy(name)
    names = context(len(losses))
    strategy.check_tasks(names.task_names)
    total, weights = strategy.combine(losses, names)
    assert weights.shape == losses.shape and bool(weights.isfinite().all()) and bool((weights >= 0).all())
    assert bool(total.isfinite())


@pytest.mark.parametrize("name", GRADIENT or [pytest.param("none", marks=pytest.mark.skip("no gradient strategy yet"))])
@settings(max_examples=60, deadline=None)
@given(jacobian=jacobians(max_tasks=6, max_params=20))
def test_direction_is_finite_with_one_entry_per_parameter(name: str, jacobian: torch.Tensor) -> None:
    strategy = weighting.create(name)
    strategy.check_tasks(context(len(jacobian)).task_names)
    direction = strategy(jacobian)  # type: ignore[operator]
    assert direction.shape == jacobian.shape[1:] and bool(direction.isfinite().all())


@pytest.mark.parametrize("name", [name for name in weighting.available()
                                  if "task_order_invariant" in weighting.STRATEGIES.get(name).claims])
@settings(max_examples=40, deadline=None)
@given(losses=loss_vectors())
def test_order_free_strategies_weigh_a_permuted_task_list_alike(name: str, losses: torch.Tensor) -> None:
    order = torch.randperm(len(losses), generator=torch.Generator().manual_seed(len(losses)))
    forward = loss_strategy(name).weights(losses, context(len(losses)))
    permuted = loss_strategy(name).weights(losses[order], context(len(losses)))
    assert torch.allclose(forward[order], permuted)
