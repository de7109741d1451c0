"""Peak memory of one call, measured in this process: Python allocations (tracemalloc) and resident-set growth
(sampled from /proc/self/statm every millisecond by a thread, so allocations by pyarrow and NumPy count too)."""

from __future__ import annotations

import os
import threading
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PAGE = os.sysconf("SC_PAGE_SIZE")
STATM = Path("/proc/self/statm")


@dataclass(frozen=True)
class Peak:
    outcome: Any  # what the call returned, or the exception it raised
    python_bytes: int  # tracemalloc's peak during the call
    resident_bytes: int  # the most the resident set grew above its size before the call

    @property
    def mb(self) -> float:
        return max(self.python_bytes, self.resident_bytes) / 2**20


def resident() -> int:
    return int(STATM.read_text().split()[1]) * PAGE if STATM.exists() else 0


def peak_memory(call: Callable[[], Any], trace_python: bool = True) -> Peak:
    """Run ``call``; its outcome and peak memory (an exception is returned, not raised). Tracing Python's
    allocations slows the call; without it ``python_bytes`` is 0."""
    start, highest, done = resident(), [resident()], threading.Event()

    def sample() -> None:
        while not done.wait(0.001):
            highest[0] = max(highest[0], resident())

    sampler = threading.Thread(target=sample, daemon=True)
    if trace_python:
        tracemalloc.start()
    sampler.start()
    try:
        outcome: Any = call()
    except Exception as error:  # noqa: BLE001  (the caller inspects it)
        outcome = error
    finally:
        done.set()
        sampler.join()
        python = tracemalloc.get_traced_memory()[1] if trace_python else 0
        if trace_python:
            tracemalloc.stop()
    return Peak(outcome, python, max(highest[0], resident()) - start)
