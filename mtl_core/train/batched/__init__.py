"""Several runs of one experiment that differ only in ``train.seed``, trained together as one stacked model.

``run_batched(configs)`` returns what ``[run_to_results(config) for config in configs]`` returns: the same
results dicts with the same numbers. The runs train in lockstep (``runner.py``): the models' parameters are
stacked on a leading axis and one optimiser steps the stack (``stack.py``); each step, each model computes
its losses on its own batch, and each run's strategy weighs them. The ``exact`` engine (the default) runs
each model's own forward pass, so every number is the separate run's, bit for bit; the ``grouped`` engine
runs one batched pass for all models (``grouped.py``), equal to float rounding (``engines.py``). Each epoch's
validation metrics are computed for all runs at once (``evaluation.py``, ``metrics.py``): with small models
they cost more than the training. ``batchable(configs)`` says whether a set of runs qualifies, and why not
when it does not (``check.py``).

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
from mtl_core.train.batched.engines import ENGINES, EngineName
from mtl_core.train.batched.runner import BatchedTrainer

__all__ = ["ENGINES", "BatchedTrainer", "EngineName", "batchable", "run_batched"]


def run_batched(configs: Sequence[ExperimentConfig], should_stop: Callable[[], bool] | None = None,
                engine: EngineName = "exact") -> list[dict[str, Any]]:
    """Train ``configs`` together; one results dict per config, in order, as ``run_to_results`` returns it.

    ``should_stop`` is asked before each epoch and stops every run. Raises ConfigError (with the reason)
    when ``batchable(configs, engine)`` refuses them; run those one by one with ``run_to_results``.
    """
    if not configs:
        return []
    reason = batchable(configs, engine)
    if reason is not None:
        raise ConfigError(f"these {len(configs)} runs cannot train together: {reason}. "
                          f"Run them one by one (mtl_core.experiment.run_to_results)")
    _, dataset = prepare(configs[0])  # the runs share data and split: loaded and preprocessed once
    started = time.perf_counter()
    histories = BatchedTrainer([resolve(config) for config in configs], dataset, should_stop, engine).run()
    duration = time.perf_counter() - started
    results = [collect_results(config, events) for config, events in zip(configs, histories, strict=True)]
    for result in results:
        result["duration_s"] = duration
    return results
