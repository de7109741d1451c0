"""DTP (Guo et al., 2018): focal weights of a moving-average KPI, κ = exp(−L/L(0)) by default."""

from __future__ import annotations

import math

import torch
from torch.testing import assert_close

from mtl_core.weighting import LossWeighting, StepContext, create
from mtl_core.weighting.dtp import DTP

TASKS = ("a", "b")
INITIAL = (1.0, 2.0)


def dtp(**hparams: object) -> LossWeighting:
    strategy = create("dtp", **hparams)
    assert isinstance(strategy, LossWeighting)
    return strategy


def weights(strategy: LossWeighting, losses: list[float], present: tuple[bool, ...] | None = None) -> torch.Tensor:
    return strategy.weights(torch.tensor(losses), StepContext(1, 0, TASKS, initial_losses=INITIAL, present=present))


def test_two_steps_by_hand() -> None:
    strategy = dtp()
    # step 0: κ = exp(-L/L(0)) = [e^-1, e^-1]; κ̄ = κ; w = -(1 - e^-1)·ln e^-1 = 0.632121
    assert_close(weights(strategy, [1.0, 2.0]), torch.tensor([0.632121, 0.632121]))
    # step 1: κ_a = e^-0.5 = 0.606531; κ̄_a = 0.9·0.606531 + 0.1·0.367879 = 0.582666;
    # w_a = -(1 - 0.582666)·ln 0.582666 = 0.417334·0.540145 = 0.225421; task b unchanged
    assert_close(weights(strategy, [0.5, 2.0]), torch.tensor([0.225421, 0.632121]))


def test_gamma_focuses_on_the_worst_task() -> None:
    strategy = dtp(gamma=2.0)
    weights(strategy, [1.0, 2.0])
    # κ̄ = [0.582666, 0.367879]: w = (1 - κ̄)²·(-ln κ̄) = [0.174168·0.540145, 0.399576·1] = [0.094076, 0.399576]
    assert_close(weights(strategy, [0.5, 2.0]), torch.tensor([0.094076, 0.399576]))


def test_alpha_one_follows_the_newest_kpi_only() -> None:
    strategy = dtp(alpha=1.0)
    weights(strategy, [1.0, 2.0])
    # κ̄_a = κ_a = e^-0.5: w_a = (1 - 0.606531)·0.5 = 0.196735
    assert_close(weights(strategy, [0.5, 2.0])[0], torch.tensor(0.196735))


def test_a_task_without_labels_gets_weight_zero_and_keeps_its_average() -> None:
    strategy = dtp()
    weights(strategy, [1.0, 2.0])
    assert_close(weights(strategy, [1.0, 0.0], present=(True, False)), torch.tensor([0.632121, 0.0]))
    assert_close(weights(strategy, [1.0, 2.0]), torch.tensor([0.632121, 0.632121]))


def test_a_perfect_task_weighs_zero_and_a_hopeless_one_stays_finite() -> None:
    w = weights(dtp(), [0.0, 1e30])
    assert float(w[0]) == 0.0 and math.isfinite(float(w[1])) and float(w[1]) > 27.0  # -ln 1e-12 ≈ 27.6


def test_a_subclass_may_supply_its_own_kpi() -> None:
    class AccuracyDTP(DTP):
        def kpis(self, losses: torch.Tensor, context: StepContext) -> torch.Tensor:
            return torch.tensor([0.5, 0.9])

    strategy = AccuracyDTP()
    strategy.reset()
    # w = -(1 - κ)·ln κ = [0.5·0.693147, 0.1·0.105361]
    assert_close(weights(strategy, [1.0, 1.0]), torch.tensor([0.346574, 0.010536]))
