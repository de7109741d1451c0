"""GradVac: EMA targets of pairwise cosine similarities and the closed-form adjustment."""

from __future__ import annotations

import math

import pytest
import torch
from torch.testing import assert_close

from mtl_core.weighting import GradientStrategy, create


def gradvac(**hparams: object) -> GradientStrategy:
    strategy = create("gradvac", **hparams)
    assert isinstance(strategy, GradientStrategy)
    return strategy


def test_with_zero_targets_a_conflict_is_projected_away_like_pcgrad_by_hand() -> None:
    # φ̂ = 0, φ12 = −1/√2 < 0: w = ‖g1‖(0 − φ·1)/(‖g2‖·1) = (1/√2)/√2 = ½, g1' = (1, 0) + ½(−1, 1) = (½, ½)
    # for g2: w = √2 (1/√2) / 1 = 1, g2' = (−1, 1) + (1, 0) = (0, 1); d = (½, 3/2)
    strategy = gradvac()
    assert_close(strategy(torch.tensor([[1.0, 0.0], [-1.0, 1.0]])), torch.tensor([0.5, 1.5]))
    target = 0.01 * (-1 / math.sqrt(2))  # φ̂ ← 0.99·0 + 0.01 φ
    assert strategy.targets_ == {(0, 1): pytest.approx(target), (1, 0): pytest.approx(target)}


def test_a_pair_below_its_learned_similarity_is_pulled_up_to_it_by_hand() -> None:
    # β = 1: φ̂ becomes the last φ. Step 1: cos((1,0), (0.6,0.8)) = 0.6 ≥ 0, no change; φ̂ = 0.6.
    # Step 2: g1 = e1, g2 = e2, φ = 0 < 0.6: w = 1·(0.6·1 − 0·0.8)/(1·0.8) = 0.75: g1' = (1, 0.75), g2' = (0.75, 1)
    strategy = gradvac(beta=1.0)
    assert_close(strategy(torch.tensor([[1.0, 0.0], [0.6, 0.8]])), torch.tensor([1.6, 0.8]))
    assert_close(strategy(torch.tensor([[1.0, 0.0], [0.0, 1.0]])), torch.tensor([1.75, 1.75]))
    assert_close(strategy.implied_weights(), torch.tensor([1.75, 1.75]))


def test_targets_are_kept_per_pair_of_the_runs_tasks_when_one_is_absent() -> None:
    strategy = gradvac()
    strategy(torch.tensor([[1.0, 0.0], [-1.0, 1.0]]), rows=[0, 2])
    assert set(strategy.targets_) == {(0, 2), (2, 0)}
    strategy.reset()
    assert strategy.targets_ == {}


def test_a_zero_gradient_has_no_angle_and_is_left_alone() -> None:
    direction = gradvac()(torch.tensor([[0.0, 0.0], [1.0, 2.0]]))
    assert_close(direction, torch.tensor([1.0, 2.0]))
