"""DWA (Liu et al., 2019): weights from the ratio of the last two epochs' mean losses."""

from __future__ import annotations

import math

import pytest
import torch
from torch.testing import assert_close

from mtl_core.errors import ConfigError
from mtl_core.weighting import LossWeighting, StepContext, create

TASKS = ("a", "b")


def dwa(**hparams: object) -> LossWeighting:
    strategy = create("dwa", **hparams)
    assert isinstance(strategy, LossWeighting)
    return strategy


def test_the_first_two_epochs_weigh_every_task_one() -> None:
    for history in [(), ((1.0, 2.0),)]:
        context = StepContext(len(history) + 1, 0, TASKS, epoch_losses=history)
        assert torch.equal(dwa().weights(torch.tensor([0.5, 0.5]), context), torch.ones(2))


def test_the_third_epoch_by_hand() -> None:
    context = StepContext(3, 10, TASKS, epoch_losses=((1.0, 2.0), (0.5, 2.0)))
    weights = dwa().weights(torch.tensor([0.4, 1.9]), context)
    # r = [0.5/1, 2/2] = [0.5, 1]; w = 2·softmax(r/2) = 2·[e^0.25, e^0.5] / (e^0.25 + e^0.5)
    #   = 2·[1.284025, 1.648721] / 2.932746 = [0.875647, 1.124353]
    assert_close(weights, torch.tensor([0.875647, 1.124353]))


def test_only_the_last_two_epochs_count() -> None:
    history = ((9.0, 1.0), (1.0, 2.0), (0.5, 2.0))
    weights = dwa(temperature=1.0).weights(torch.ones(2), StepContext(4, 0, TASKS, epoch_losses=history))
    # r = [0.5, 1]; 2·softmax([0.5, 1]) = 2·[1, e^0.5] / (1 + e^0.5) = [2/2.648721, 2·1.648721/2.648721]
    assert_close(weights, torch.tensor([0.755081, 1.244919]))


def test_a_task_without_labels_gets_weight_zero_and_an_empty_epoch_a_ratio_of_one() -> None:
    history = ((1.0, 0.0), (0.5, 3.0))  # task b had no labelled row in the first epoch
    context = StepContext(3, 0, TASKS, epoch_losses=history, present=(False, True))
    weights = dwa().weights(torch.tensor([0.0, 1.0]), context)
    # r = [0.5, 1 (no ratio)]: w_b = 2·e^0.5 / (e^0.25 + e^0.5) = 1.124353
    assert_close(weights, torch.tensor([0.0, 1.124353]))


def test_the_temperature_must_be_positive() -> None:
    with pytest.raises(ConfigError, match=r"strategy\.temperature"):
        create("dwa", temperature=0.0)


def test_the_weights_sum_to_the_number_of_tasks() -> None:
    history = ((1.0, 2.0, 3.0), (0.2, 2.5, 2.0))
    weights = dwa().weights(torch.ones(3), StepContext(3, 0, ("a", "b", "c"), epoch_losses=history))
    assert math.isclose(float(weights.sum()), 3.0, rel_tol=1e-6)
