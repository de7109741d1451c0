"""One point of the scale benchmark, in a process of its own so that its peak memory is its own:
``python -m bench.suite.scale_point '{"csv": ..., "tasks": 2, ...}'`` prints one JSON line.

The run reads the CSV through the engine's own data path (``mtl_core.experiment.prepare``: read, split,
preprocess, tensors) and trains ``epochs`` epochs of hps with strategy ``equal`` in mini-batches.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from typing import Any

import torch

from mtl_core.config import ExperimentConfig
from mtl_core.experiment import prepare
from mtl_core.train import EpochEnded, Trainer


def current_rss() -> int:
    """Resident memory of this process now, in bytes (Linux /proc; the peak so far elsewhere)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return peak_rss()


def peak_rss() -> int:
    """The process's peak resident memory in bytes: ``VmHWM`` of /proc/self/status on Linux, which starts afresh
    with the process's own memory at exec; ``ru_maxrss`` elsewhere (Linux carries the parent's over a fork, so a
    child started by a big parent would report the parent's peak)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def config_for(point: dict[str, Any]) -> dict[str, Any]:
    tasks = [{"name": f"y{index}", "column": f"y{index}", "kind": "regression"} for index in range(point["tasks"])]
    return {"data": {"path": point["csv"], "features": [f"x{index}" for index in range(point["features"])]},
            "tasks": tasks, "model": {"architecture": "hps", "hidden": [point["hidden"]] * 2},
            "strategy": {"name": "equal"},
            "train": {"epochs": point["epochs"], "batch_size": point["batch"], "threads": point["threads"],
                      "device": point.get("device", "cpu")}}


def measure(point: dict[str, Any]) -> dict[str, Any]:
    """Load, train, and report: seconds to load, per-epoch wall and CPU seconds (the last epoch's), memory."""
    torch.set_num_threads(point["threads"])
    before = current_rss()
    started = time.perf_counter()
    config, dataset = prepare(ExperimentConfig.from_dict(config_for(point)))
    loaded = time.perf_counter() - started
    after_load = peak_rss()
    events = Trainer(config, dataset).run()
    next(events)  # RunStarted
    walls, cpus = [], []
    while True:
        cpu = time.process_time()
        event = next(events)
        if not isinstance(event, EpochEnded):
            break
        cpus.append(time.process_time() - cpu)
        walls.append(event.duration_s)
    return {"load_s": loaded, "epoch_wall_s": walls[-1], "epoch_cpu_s": cpus[-1], "rss_before": before,
            "peak_after_load": after_load, "peak": peak_rss(), "train_rows": len(dataset.train)}


def main(argv: list[str]) -> None:
    """One point (a JSON object): one JSON line. Several (a JSON list, ``--quick``): one line, a list, their memory
    figures then share one process."""
    given = json.loads(argv[0])
    print(json.dumps([measure(point) for point in given] if isinstance(given, list) else measure(given)))


if __name__ == "__main__":
    main(sys.argv[1:])
