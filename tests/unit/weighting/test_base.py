"""The strategy bases: the gradient strategy's input checks and the loss strategy's weighted sum."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

import pytest
import torch
from pydantic import Field

from mtl_core.errors import ConfigError
from mtl_core.weighting import GradientStrategy, LossWeighting, StepContext
from mtl_core.weighting.base import hparam_names, validate_hparams


class RowSum(GradientStrategy):
    """Sums the task gradients (a test-only strategy, not registered)."""

    def __init__(self, scale: Annotated[float, Field(gt=0.0)] = 1.0) -> None:
        self.scale = scale

    def aggregate(self, jacobian: torch.Tensor) -> torch.Tensor:
        return self.scale * jacobian.sum(dim=0)


class Halves(LossWeighting):
    """Weighs every task 0.5 (test-only)."""

    def __init__(self) -> None:
        pass

    def weights(self, losses: torch.Tensor, context: StepContext) -> torch.Tensor:
        return torch.full_like(losses, 0.5)


def test_a_gradient_strategy_checks_its_jacobian_then_aggregates() -> None:
    assert torch.equal(RowSum()(torch.tensor([[1.0, 2.0], [3.0, 4.0]])), torch.tensor([4.0, 6.0]))


@pytest.mark.parametrize("jacobian", [torch.ones(3), torch.ones(2, 3, 4)])
def test_a_jacobian_that_is_not_two_dimensional_is_refused(jacobian: torch.Tensor) -> None:
    with pytest.raises(ValueError, match=r"a Jacobian is \[tasks, parameters\]"):
        RowSum()(jacobian)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_a_jacobian_holding_nan_or_inf_is_refused(bad: float) -> None:
    with pytest.raises(ValueError, match="nan or inf"):
        RowSum()(torch.tensor([[1.0, bad], [0.0, 1.0]]))


def test_the_tasks_of_the_rows_are_passed_to_aggregate_and_not_kept() -> None:
    seen: list[object] = []

    class Recorder(RowSum):
        def aggregate(self, jacobian: torch.Tensor, rows: Sequence[int] | None = None) -> torch.Tensor:
            seen.append(rows)
            return jacobian.sum(dim=0)

    strategy = Recorder()
    strategy(torch.ones(2, 3), rows=[0, 2])
    strategy(torch.ones(3, 3))
    assert seen == [[0, 2], None] and not hasattr(strategy, "rows_")


def test_rows_naming_another_number_of_tasks_than_the_jacobian_holds_are_refused() -> None:
    with pytest.raises(ValueError, match="2 task rows named for a Jacobian of 3 rows"):
        RowSum()(torch.ones(3, 3), rows=[0, 1])


def test_the_present_mask_marks_the_tasks_labelled_in_the_batch() -> None:
    like = torch.zeros(3)
    assert StepContext(1, 0, ("a", "b", "c")).present_mask(like).tolist() == [True, True, True]
    assert StepContext(1, 0, ("a", "b", "c"), present=(True, False, True)).present_mask(like).tolist() == [
        True, False, True]


def test_a_gradient_strategy_has_no_implied_weights_by_default() -> None:
    assert RowSum().implied_weights() is None


def test_a_loss_strategy_combines_losses_into_the_weighted_sum() -> None:
    total, weights = Halves().combine(torch.tensor([2.0, 4.0]), StepContext(1, 0, ("a", "b")))
    assert float(total) == 3.0 and torch.equal(weights, torch.tensor([0.5, 0.5]))


def test_hyper_parameters_are_the_init_keywords_with_their_limits() -> None:
    assert hparam_names(RowSum) == ["scale"] and RowSum(2.0).hparams() == {"scale": 2.0}
    assert validate_hparams(RowSum, {}) == {"scale": 1.0}
    with pytest.raises(ConfigError, match=r"^strategy\.scale = 0: Input should be greater than 0"):
        validate_hparams(RowSum, {"scale": 0})


def test_the_step_context_is_a_frozen_value() -> None:
    context = StepContext(1, 0, ("a",))
    with pytest.raises(AttributeError):
        context.epoch = 2  # type: ignore[misc]
