"""What a worker runs for one trial: a config dict in, a results dict out (plain values both ways).

Workers never open the run store: the driver that started them stores what they return.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

FAULTS_VARIABLE = "MTL_TEST_TRIAL_FAULTS"  # tests only: "raise=SEED,exit=SEED" makes trials of that train.seed fail


def execute(config: Mapping[str, Any], should_stop: Callable[[], bool] | None = None,
            on_epoch: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """Train one config and return its RESULTS.json dict; ``on_epoch(entry)`` gets each epoch's history entry."""
    from mtl_core.config import ExperimentConfig
    from mtl_core.experiment import run_to_results
    from mtl_core.train import EpochEnded, Event

    inject_fault(config)

    def forward(event: Event) -> None:
        if on_epoch is not None and isinstance(event, EpochEnded):
            on_epoch({key: value for key, value in event.to_dict().items() if key != "type"})

    return run_to_results(ExperimentConfig.from_dict(config), should_stop, forward).to_dict()


def inject_fault(config: Mapping[str, Any]) -> None:
    """Tests only: fail the trial as ``$MTL_TEST_TRIAL_FAULTS`` asks for its ``train.seed`` (a RuntimeError for
    ``raise=SEED``, the process ending at once with ``exit=SEED``). Unset, as it is outside the tests: nothing."""
    wanted = os.environ.get(FAULTS_VARIABLE, "")
    seed = str(config.get("train", {}).get("seed"))
    for item in filter(None, wanted.split(",")):
        kind, _, value = item.partition("=")
        if value.strip() != seed:
            continue
        if kind.strip() == "raise":
            raise RuntimeError(f"fault injected for train.seed {seed}")
        if kind.strip() == "exit":
            os._exit(17)  # as a worker killed by the system would: no exception, no cleanup
