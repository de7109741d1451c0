"""Timing a measured thing against its baseline in the same process: interleaved, warm-up discarded, medians.

Beside the baseline runs an identical second copy of it, timed the same way, so that the ratio
copy / baseline shows how far noise alone moves a ratio on this machine (ideally 1.00×).
Each call is timed in the CPU time of the calling thread (``time.thread_time``) by default: other processes on a
shared machine do not inflate it, as they do wall time. Fix torch's thread count before timing
(``torch.set_num_threads``) and state it.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

Clock = Callable[[], float]


@dataclass(frozen=True)
class Timing:
    """Per-repeat times of the measured thing, its baseline and the baseline's copy (warm-up left out)."""

    measured: tuple[float, ...]
    baseline: tuple[float, ...]
    copy: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.measured)

    @property
    def baseline_median(self) -> float:
        return statistics.median(self.baseline)

    @property
    def ratio(self) -> float:
        """median(measured) / median(baseline)."""
        return self.median / self.baseline_median

    @property
    def noise(self) -> float | None:
        """median(copy) / median(baseline): the ratio noise alone gives; None without a copy."""
        return statistics.median(self.copy) / self.baseline_median if self.copy else None


def interleaved(measured: Callable[[], object], baseline: Callable[[], object],
                copy: Callable[[], object] | None = None, warmup: int = 3, repeats: int = 20,
                clock: Clock = time.thread_time) -> Timing:
    """Call the three in turn ``warmup + repeats`` times; who goes first rotates each round, so that a drift of
    the machine's speed, or a cache the previous call warmed, hits each alike. The warm-up rounds are discarded.
    """
    actions: list[Callable[[], object]] = [baseline, measured] + ([copy] if copy is not None else [])
    times: list[list[float]] = [[] for _ in actions]
    for round_index in range(warmup + repeats):
        shift = round_index % len(actions)
        for index in [*range(shift, len(actions)), *range(shift)]:
            start = clock()
            actions[index]()
            elapsed = clock() - start
            if round_index >= warmup:
                times[index].append(elapsed)
    return Timing(tuple(times[1]), tuple(times[0]), tuple(times[2]) if copy is not None else ())


def growth_exponent(sizes: Sequence[float], values: Sequence[float]) -> float:
    """The slope of log(value) against log(size) by least squares: value ∝ size^slope.

    >>> round(growth_exponent([10, 100, 1000], [3, 30, 300]), 6)
    1.0
    """
    xs = [math.log(size) for size in sizes]
    ys = [math.log(value) for value in values]
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread
