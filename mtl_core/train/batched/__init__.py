"""Several runs of one experiment that differ only in ``train.seed``, trained together as one stacked model.

``run_batched(configs)`` returns what ``[run_to_results(config) for config in configs]`` returns (the same
results dicts, the same numbers to float rounding), from one pass over the data per step instead of N:
the models' parameters are stacked on a leading axis and every layer runs on all of them at once, each
model on its own batch (``stack.py``); one optimiser steps the stack (``runner.py``); the per-epoch
validation is vectorised over the models (``evaluation.py``, ``metrics.py``). ``batchable(configs)`` says
whether a set of runs qualifies, and why not when it does not (``check.py``).

The data set is loaded and preprocessed once. Each result's ``duration_s`` is the wall time of the batched
training, which all its runs shared.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from mtl_core.config import ExperimentConfig
from mtl_core.errors import ConfigError
from mtl_core.experiment import collect_results, prepare, resolve
from mtl_core.train.batched.check import batchable
from mtl_core.train.batched.runner import BatchedTrainer

__all__ = ["BatchedTrainer", "batchable", "run_batched"]


def run_batched(configs: Sequence[ExperimentConfig],
                should_stop: Callable[[], bool] | None = None) -> list[dict[str, Any]]:
    """Train ``configs`` as one stacked model; one results dict per config, in order, as ``run_to_results``.

    ``should_stop`` is asked before each epoch and stops every run. Raises ConfigError (with the reason)
    when ``batchable(configs)`` refuses them; run those one by one with ``run_to_results``.
    """
    if not configs:
        return []
    reason = batchable(configs)
    if reason is not None:
        raise ConfigError(f"these {len(configs)} runs cannot train as one stacked model: {reason}. "
                          f"Run them one by one (mtl_core.experiment.run_to_results)")
    _, dataset = prepare(configs[0])  # the runs share data and split: loaded and preprocessed once
    started = time.perf_counter()
    histories = BatchedTrainer([resolve(config) for config in configs], dataset, should_stop).run()
    duration = time.perf_counter() - started
    results = [collect_results(config, events) for config, events in zip(configs, histories, strict=True)]
    for result in results:
        result["duration_s"] = duration
    return results
