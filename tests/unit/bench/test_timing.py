"""The timing helper on a fake clock: who runs when, what is discarded, what the medians and ratios are."""

from __future__ import annotations

import math
import random

import pytest

from bench.suite.timing import growth_exponent, interleaved


class FakeClock:
    """A clock that moves only when an action says how long it took."""

    def __init__(self) -> None:
        self.now = 0.0
        self.calls: list[str] = []

    def __call__(self) -> float:
        return self.now

    def action(self, name: str, durations: list[float]):  # type: ignore[no-untyped-def]
        def run() -> None:
            self.calls.append(name)
            self.now += durations.pop(0)
        return run


def test_warm_up_rounds_are_discarded_and_medians_divide() -> None:
    clock = FakeClock()
    measured = clock.action("m", [100.0, 100.0, 3.0, 9.0, 2.0])  # two slow warm-up calls, then median 3
    baseline = clock.action("b", [50.0, 50.0, 1.0, 1.0, 1.0])
    copy = clock.action("c", [50.0, 50.0, 1.0, 2.0, 1.0])
    timing = interleaved(measured, baseline, copy, warmup=2, repeats=3, clock=clock)
    assert timing.measured == (3.0, 9.0, 2.0) and timing.baseline == (1.0, 1.0, 1.0)
    assert timing.ratio == 3.0
    assert timing.noise == 1.0


def test_who_goes_first_rotates_each_round() -> None:
    clock = FakeClock()
    timing = interleaved(clock.action("m", [1.0] * 3), clock.action("b", [1.0] * 3), clock.action("c", [1.0] * 3),
                         warmup=0, repeats=3, clock=clock)
    assert clock.calls == ["b", "m", "c", "m", "c", "b", "c", "b", "m"]
    assert len(timing.copy) == 3


def test_without_a_copy_there_is_no_noise_ratio() -> None:
    clock = FakeClock()
    timing = interleaved(clock.action("m", [2.0] * 4), clock.action("b", [1.0] * 4), warmup=1, repeats=3, clock=clock)
    assert clock.calls == ["b", "m", "m", "b", "b", "m", "m", "b"]
    assert timing.ratio == 2.0 and timing.noise is None


def test_growth_exponent_recovers_a_power_law() -> None:
    sizes = [10**3, 10**4, 10**5, 10**6]
    assert growth_exponent(sizes, [2.0 * size**1.5 for size in sizes]) == pytest.approx(1.5)


def test_growth_exponent_is_near_the_truth_under_noise() -> None:
    generator = random.Random(0)
    sizes = [2, 4, 8, 16, 32]
    values = [0.01 * size**0.8 * math.exp(generator.gauss(0.0, 0.05)) for size in sizes]
    assert growth_exponent(sizes, values) == pytest.approx(0.8, abs=0.1)
