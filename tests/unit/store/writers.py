"""Runs written without training, for tests of many writers at once (threads here, processes via ``__main__``)."""

from __future__ import annotations

import sys
from pathlib import Path

from mtl_core.results import RunResults
from mtl_core.store import RunStore

TASKS = ("progression", "high_progression")


def synthetic_results(index: int, epochs: int = 3) -> RunResults:
    """A completed run's results shaped like the trainer's, with numbers that depend on ``index``."""
    history = [{"epoch": epoch, "train_loss": {task: 1.0 / (epoch + index) for task in TASKS},
                "val_loss": {task: 1.1 / (epoch + index) for task in TASKS}, "weights": {task: 1.0 for task in TASKS},
                "metrics": {"progression": {"mse": 0.5 + index}, "high_progression": {"accuracy": 0.7}},
                "duration_s": 0.01, "elapsed_s": 0.01 * epoch, "extras": {"lr": 0.003}}
               for epoch in range(1, epochs + 1)]
    metrics = {"val": {"progression": {"mse": 0.4 + index}}, "test": {"progression": {"mse": 0.5 + index},
                                                                     "high_progression": {"accuracy": 0.75}}}
    config = {"data": {"dataset": "diabetes"}, "model": {"architecture": "hps"}, "strategy": {"name": "equal"},
              "train": {"epochs": epochs, "seed": index},
              "tasks": [{"name": "progression", "kind": "regression", "metric": "mse"},
                        {"name": "high_progression", "kind": "binary", "metric": "accuracy"}]}
    return RunResults(config, "completed", "", epochs, 0.05, metrics, history,
                      predictions={"progression": {"row": [1, 2], "true": [0.5, 1.5], "pred": [0.4, index]}})


def write_runs(store: RunStore, prefix: int, count: int) -> list[str]:
    """``count`` runs written epoch by epoch, as a training run writes them; returns their ids."""
    ids = []
    for index in range(count):
        results = synthetic_results(prefix * 1000 + index)
        run_id = store.start_run(results.config, owner=f"writer-{prefix}")
        record = store.recorder(run_id)
        for entry in results.history:
            record(_Epoch(entry))
        store.finish(run_id, results)
        ids.append(run_id)
    return ids


class _Epoch:
    """An EpochEnded stand-in (the recorder reads ``to_dict()``), so writer processes need not load PyTorch."""

    def __init__(self, entry: dict[str, object]) -> None:
        self.entry = entry

    def to_dict(self) -> dict[str, object]:
        return {"type": "epoch_ended", **self.entry}


if __name__ == "__main__":  # python -m tests.unit.store.writers DB PREFIX COUNT: prints the ids written
    written = write_runs(RunStore(Path(sys.argv[1])), int(sys.argv[2]), int(sys.argv[3]))
    print("\n".join(written))
