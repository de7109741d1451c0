"""The strategy and scale benchmarks on CUDA when a GPU is there; otherwise one record saying "no GPU"."""

from __future__ import annotations

from typing import Any

import torch

from bench.suite import scale, strategies
from bench.suite.options import Options, Progress
from bench.suite.records import record

SECTION = "## GPU"


def measure(options: Options, progress: Progress) -> list[dict[str, Any]]:
    if not torch.cuda.is_available():
        return [record("gpu", {"cuda": False}, None, "no GPU")]
    device = f"cuda ({torch.cuda.get_device_name(0)})"
    progress(device)
    found = strategies.measure_on("cuda", options, progress) + scale.measure_on("cuda", options, progress)
    for item in found:
        item["machine"]["device"] = device
    return found


def section(records: list[dict[str, Any]], options: Options) -> str:
    if any(item["name"] == "gpu" and item["unit"] == "no GPU" for item in records):
        return f"{SECTION}\n\nno GPU: `torch.cuda.is_available()` was false on the machine that ran the suite, " \
               "so the " \
               "strategy and scale benchmarks ran on the CPU only. On a machine with CUDA, `python -m bench --only " \
               "gpu` runs both on the GPU (steps timed in wall time after `torch.cuda.synchronize()`).\n"
    steps = [r for r in records if r["name"] == "strategy_step"]
    from bench.suite.strategies_doc import strategies_section
    return strategies_section(steps, strategies.FULL, SECTION + ": strategies on CUDA")
