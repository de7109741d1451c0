"""The leaderboard's arithmetic, as pure functions of per-seed numbers: ranks across data sets and ties with the best.

Δm% (``mtl_core.compare.delta_m``) is lower-is-better, so every function here ranks lower first.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence

from scipy import stats as scipy_stats

ALPHA = 0.05


def ranks(scores: Mapping[str, float | None]) -> dict[str, float]:
    """Rank of each method by score, 1 = lowest; ties share the mean of their ranks; a missing score ranks last.

    >>> ranks({"a": 1.0, "b": -2.0, "c": 1.0, "d": None})
    {'a': 2.5, 'b': 1.0, 'c': 2.5, 'd': 4.0}
    """
    present = sorted((value, name) for name, value in scores.items() if value is not None)
    result: dict[str, float] = {}
    index = 0
    while index < len(present):
        end = index
        while end + 1 < len(present) and present[end + 1][0] == present[index][0]:
            end += 1
        for position in range(index, end + 1):
            result[present[position][1]] = (index + end) / 2 + 1
        index = end + 1
    for name, value in scores.items():
        if value is None:
            result[name] = float(len(scores))
    return {name: result[name] for name in scores}


def mean_ranks(per_set: Mapping[str, Mapping[str, float | None]]) -> dict[str, float]:
    """Each method's rank averaged over the data sets (``per_set[SET][METHOD]`` = its score), best first."""
    collected: dict[str, list[float]] = {}
    for scores in per_set.values():
        for name, rank in ranks(scores).items():
            collected.setdefault(name, []).append(rank)
    means = {name: statistics.fmean(values) for name, values in collected.items()}
    return dict(sorted(means.items(), key=lambda item: (item[1], item[0])))


def welch_p(first: Sequence[float], second: Sequence[float]) -> float | None:
    """Two-sided p of Welch's t-test (unequal variances); None with fewer than 2 values a side or no spread."""
    if len(first) < 2 or len(second) < 2:
        return None
    if statistics.pvariance(first) == 0 and statistics.pvariance(second) == 0:
        return 1.0 if statistics.fmean(first) == statistics.fmean(second) else 0.0
    value = float(scipy_stats.ttest_ind(first, second, equal_var=False).pvalue)
    return value if math.isfinite(value) else None


def tie_with_best(values: Mapping[str, Sequence[float]], method: str) -> dict[str, object]:
    """Whether ``method`` is statistically tied with the best method (lowest mean), by Welch's t-test.

    Tied when it is the best, or when p > 0.05. Returns best, p and tied.

    >>> tie_with_best({"equal": [1.0, 1.2, 0.9], "x": [0.0, 0.1, -0.1]}, "equal")["tied"]
    False
    >>> tie_with_best({"equal": [1.0, 3.0, -1.0], "x": [0.0, 0.5, -0.4]}, "equal")["tied"]
    True
    """
    means = {name: statistics.fmean(seeds) for name, seeds in values.items() if seeds}
    best = min(means, key=lambda name: (means[name], name))
    if method not in means:
        return {"best": best, "p": None, "tied": False}
    if best == method:
        return {"best": best, "p": 1.0, "tied": True}
    p = welch_p(values[method], values[best])
    return {"best": best, "p": p, "tied": p is not None and p > ALPHA}


def beats_all(candidate: float, others: Sequence[float], higher_is_better: bool) -> bool:
    """Whether ``candidate`` is strictly better than every one of ``others``."""
    return all(candidate > other if higher_is_better else candidate < other for other in others)
