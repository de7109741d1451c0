"""RLW (Lin et al., 2022): fresh softmax-normalised random weights every step."""

from __future__ import annotations

import math

import pytest
import torch
from torch.testing import assert_close

from mtl_core.errors import ConfigError
from mtl_core.weighting import LossWeighting, StepContext, create
from mtl_core.weighting.rlw import RLW

TASKS = ("a", "b", "c")


def rlw(**hparams: object) -> LossWeighting:
    strategy = create("rlw", **hparams)
    assert isinstance(strategy, LossWeighting)
    return strategy


class ScriptedRLW(RLW):
    """RLW with a fixed draw z = [0, ln 2, ln 3] (test-only)."""

    def draw(self, n_tasks: int, dtype: torch.dtype) -> torch.Tensor:
        return torch.tensor([0.0, math.log(2.0), math.log(3.0)], dtype=dtype)


def test_the_weights_are_the_softmax_of_the_draw_by_hand() -> None:
    strategy = ScriptedRLW()
    strategy.reset()
    # softmax([0, ln 2, ln 3]) = [1, 2, 3] / 6
    assert_close(strategy.weights(torch.ones(3), StepContext(1, 0, TASKS)), torch.tensor([1 / 6, 2 / 6, 3 / 6]))


def test_a_task_without_labels_is_left_out_of_the_softmax() -> None:
    strategy = ScriptedRLW()
    strategy.reset()
    weights = strategy.weights(torch.tensor([1.0, 0.0, 1.0]), StepContext(1, 0, TASKS, present=(True, False, True)))
    # softmax([0, ln 3]) = [1, 3] / 4
    assert_close(weights, torch.tensor([0.25, 0.0, 0.75]))


def test_the_normal_draw_comes_from_the_methods_own_generator() -> None:
    generator = torch.Generator().manual_seed(7)
    expected = [torch.softmax(torch.randn(3, generator=generator), dim=0) for _ in range(3)]
    strategy = rlw(seed=7)
    torch.manual_seed(123)  # the global generator must play no part
    assert_close(torch.stack([strategy.weights(torch.ones(3), StepContext(1, 0, TASKS)) for _ in range(3)]),
                 torch.stack(expected))


def test_a_seed_repeats_its_sequence_and_reset_restarts_it() -> None:
    strategy = rlw(seed=3)
    first = [strategy.weights(torch.ones(3), StepContext(1, 0, TASKS)) for _ in range(4)]
    strategy.reset()
    again = [strategy.weights(torch.ones(3), StepContext(1, 0, TASKS)) for _ in range(4)]
    other = rlw(seed=4).weights(torch.ones(3), StepContext(1, 0, TASKS))
    assert all(torch.equal(a, b) for a, b in zip(first, again, strict=True))
    assert not torch.equal(first[0], first[1]) and not torch.equal(first[0], other)


@pytest.mark.parametrize("distribution", ["normal", "uniform", "dirichlet"])
def test_every_distribution_gives_weights_on_the_simplex(distribution: str) -> None:
    strategy = rlw(distribution=distribution)
    for _ in range(20):
        weights = strategy.weights(torch.ones(3), StepContext(1, 0, TASKS))
        assert bool((weights > 0).all()) and abs(float(weights.sum()) - 1.0) < 1e-6


def test_uniform_and_dirichlet_draws_stay_in_their_ranges() -> None:
    uniform, dirichlet = RLW(distribution="uniform"), RLW(distribution="dirichlet")
    uniform.reset()
    dirichlet.reset()
    draws = uniform.draw(1000, torch.float32)
    assert float(draws.min()) >= 0.0 and float(draws.max()) < 1.0
    simplex = torch.stack([dirichlet.draw(4, torch.float64) for _ in range(200)])
    assert_close(simplex.sum(dim=1), torch.ones(200, dtype=torch.float64))
    # Dirichlet(1, 1, 1, 1) has mean 1/4 in every coordinate
    assert abs(float(simplex.mean()) - 0.25) < 1e-9 and abs(float(simplex[:, 0].mean()) - 0.25) < 0.05


def test_an_unknown_distribution_is_refused_naming_the_key() -> None:
    with pytest.raises(ConfigError, match=r"strategy\.distribution"):
        create("rlw", distribution="bernoulli")
