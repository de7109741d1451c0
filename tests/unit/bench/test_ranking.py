"""The leaderboard's ranks, ties with the best and tree wins, on numbers made by hand."""

from __future__ import annotations

import pytest
from scipy import stats

from bench.suite.leaderboard_doc import tree_wins
from bench.suite.ranking import beats_all, mean_ranks, ranks, tie_with_best, welch_p


def test_ties_share_the_mean_of_their_ranks_and_missing_ranks_last() -> None:
    assert ranks({"a": -1.0, "b": 2.0, "c": 2.0, "d": None}) == {"a": 1.0, "b": 2.5, "c": 2.5, "d": 4.0}


def test_mean_rank_averages_over_sets_best_first() -> None:
    per_set = {"wine": {"equal": -1.0, "pcgrad": 0.5, "mgda": 3.0},
               "tips": {"equal": 2.0, "pcgrad": -4.0, "mgda": 1.0}}
    assert mean_ranks(per_set) == {"pcgrad": 1.5, "equal": 2.0, "mgda": 2.5}
    assert list(mean_ranks(per_set)) == ["pcgrad", "equal", "mgda"]


def test_equal_far_from_the_best_is_not_tied() -> None:
    tie = tie_with_best({"equal": [5.0, 5.1, 4.9, 5.2, 4.8], "mgda": [-3.0, -3.1, -2.9, -3.2, -2.8]}, "equal")
    assert tie["best"] == "mgda" and not tie["tied"] and tie["p"] < 0.05


def test_equal_within_the_noise_of_the_best_is_tied() -> None:
    equal, best = [1.0, -2.0, 3.0, 0.5, -1.0], [0.0, -1.5, 1.0, -0.5, -0.8]
    tie = tie_with_best({"equal": equal, "pcgrad": best}, "equal")
    assert tie["best"] == "pcgrad" and tie["tied"]
    assert tie["p"] == pytest.approx(stats.ttest_ind(equal, best, equal_var=False).pvalue)


def test_the_best_is_tied_with_itself() -> None:
    assert tie_with_best({"equal": [-1.0, -2.0], "x": [1.0, 2.0]}, "equal") == {"best": "equal", "p": 1.0, "tied": True}


def test_welch_needs_two_values_a_side() -> None:
    assert welch_p([1.0], [1.0, 2.0]) is None


def test_beats_all_follows_the_metric_direction() -> None:
    assert beats_all(0.9, [0.8, 0.85], higher_is_better=True)
    assert not beats_all(0.9, [0.8, 0.9], higher_is_better=True)
    assert beats_all(0.1, [0.2, 0.3], higher_is_better=False)


def test_a_tree_wins_a_task_only_when_better_than_every_network() -> None:
    block = {"tasks": [{"name": "q", "higher_is_better": False}, {"name": "good", "higher_is_better": True}],
             "results": {"stl": {"q": {"mean": 0.40}, "good": {"mean": 0.80}},
                         "equal": {"q": {"mean": 0.38}, "good": {"mean": 0.82}},
                         "hgb": {"q": {"mean": 0.35}, "good": {"mean": 0.81}}}}
    assert tree_wins(block) == ["q"]
