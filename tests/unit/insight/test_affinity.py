"""Lookahead inter-task affinity and the grouping rule of TAG (Fifty et al., 2021) against hand computations."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pytest
import torch
from torch import Tensor

from mtl_core.insight.affinity import (
    Grouping, advice, best_grouping, lookahead_affinity, mean_affinity, pair_advice, recommended, score_onto, splits,
)

X = np.array([[1.0, 2.0], [0.5, -1.0], [-1.5, 0.5]])
Y = np.array([[1.0, -2.0], [0.0, 1.0], [2.0, 0.5]])  # targets of tasks 0 and 1
HEADS = np.array([1.0, -0.5])  # task t predicts HEADS[t] · (x · w)
W = np.array([0.3, -0.2])
LR = 0.1


def losses_by_hand(w: np.ndarray) -> np.ndarray:
    """L_t = mean over rows of (HEADS[t] · x·w − y_t)²."""
    return np.array([np.mean((HEADS[t] * (X @ w) - Y[:, t]) ** 2) for t in range(2)])


def gradients_by_hand(w: np.ndarray) -> np.ndarray:
    """∇_w L_t = (2/n) Σ (HEADS[t] · x·w − y_t) · HEADS[t] · x, one row per task."""
    return np.stack([2 * np.mean(((HEADS[t] * (X @ w) - Y[:, t]) * HEADS[t])[:, None] * X, axis=0) for t in range(2)])


def test_the_affinity_of_a_two_task_linear_model_matches_one_sgd_step_by_hand() -> None:
    shared = torch.nn.Parameter(torch.tensor(W))
    x, y, heads = torch.tensor(X), torch.tensor(Y), torch.tensor(HEADS)

    def losses_at(replaced: Mapping[str, Tensor]) -> Tensor:
        w = replaced.get("w", shared)
        return ((heads[None, :] * (x @ w)[:, None] - y) ** 2).mean(dim=0)

    jacobian = torch.tensor(gradients_by_hand(W))
    affinity, measured = lookahead_affinity(losses_at, {"w": shared}, jacobian, [0, 1], LR)
    before = losses_by_hand(W)
    expected = np.array([1 - losses_by_hand(W - LR * gradients_by_hand(W)[i]) / before for i in range(2)])
    assert measured.all() and affinity.numpy() == pytest.approx(expected, rel=1e-10)
    assert torch.equal(shared.detach(), torch.tensor(W))  # the parameter itself never moved


def test_a_task_without_a_row_in_the_batch_gets_no_affinity_row() -> None:
    shared = torch.nn.Parameter(torch.ones(2))
    affinity, measured = lookahead_affinity(lambda replaced: replaced.get("w", shared).sum() * torch.ones(3),
                                            {"w": shared}, torch.ones(1, 2), [2], 0.1)
    assert measured[2].all() and not measured[:2].any() and affinity[2].tolist() == pytest.approx([0.1] * 3)


AFFINITY = {  # a and b help each other, c hurts and is hurt by both
    "a": {"b": 0.4, "c": -0.2},
    "b": {"a": 0.3, "c": -0.1},
    "c": {"a": -0.3, "b": -0.2},
}


def test_a_tasks_score_in_a_group_is_the_mean_affinity_onto_it_from_the_others() -> None:
    assert score_onto(AFFINITY, ["a", "b", "c"], "a") == pytest.approx((0.3 - 0.3) / 2)
    assert score_onto(AFFINITY, ["c"], "c") == 0.0


def test_the_best_split_of_three_tasks_puts_the_helpers_together() -> None:
    best = best_grouping(AFFINITY, ["a", "b", "c"], 2)
    assert best == Grouping((("a", "b"), ("c",)), pytest.approx(0.7))
    assert advice(best) == "Train a and b together, c alone."
    chosen = recommended(AFFINITY, ["a", "b", "c"])
    assert chosen is not None and chosen.groups == (("a", "b"), ("c",))  # 0.7 beats three alone (0)


def test_splits_count_the_stirling_numbers() -> None:
    assert len(list(splits(list("abcde"), 2))) == 15 and len(list(splits(list("abcde"), 3))) == 25
    assert best_grouping(AFFINITY, ["a", "b"], 3) is None


def test_the_run_matrix_weighs_each_epoch_by_its_measured_steps() -> None:
    records = [{"affinity": {"a": {"b": 0.5}}, "affinity_steps": 1}, {"affinity": {"a": {"b": -0.1}}, "affinity_steps": 3},
               {"epoch": 3}]
    assert mean_affinity(records) == {"a": {"b": pytest.approx(0.2 / 4)}}


def test_two_tasks_get_advice_from_the_signs_of_their_affinities() -> None:
    assert "help each other" in pair_advice({"a": {"b": 0.1}, "b": {"a": 0.2}}, "a", "b")
    assert "apart" in pair_advice({"a": {"b": -0.1}, "b": {"a": -0.2}}, "a", "b")
    assert pair_advice({"a": {"b": 0.1}, "b": {"a": -0.2}}, "a", "b").startswith("Steps on a lower the loss of b")
