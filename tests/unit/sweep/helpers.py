"""Tiny sweeps for the sweep tests: the built-in diabetes data (no download), 4 hidden units, a few epochs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mtl_core.config import ExperimentConfig
from mtl_core.experiment import run_to_results
from mtl_core.sweep import Outcome, SweepSpec, Trial, expand, parse_sweep

METRIC = "val.progression.mse"


def tiny_spec(epochs: int = 2, **values: Any) -> tuple[SweepSpec, list[Trial]]:
    """A sweep over the tiny base config and its trials."""
    base = {"data": {"dataset": "diabetes"}, "model": {"hidden": [4]}, "train": {"epochs": epochs}}
    spec = parse_sweep({"metric": METRIC, "base": base, **values})
    return spec, expand(spec, base)


def one_by_one(trials: Sequence[Trial]) -> list[dict[str, Any]]:
    """Each trial's config trained here, one after another, as ``python -m mtl_core run`` would."""
    return [run_to_results(ExperimentConfig.from_dict(trial.config)).to_dict() for trial in trials]


def numbers(results: dict[str, Any]) -> tuple[Any, ...]:
    """What must match exactly: status, final metrics, and every epoch's losses and validation metrics."""
    return (results["status"], results["metrics"],
            [(entry["epoch"], entry["train_loss"], entry["val_loss"], entry["metrics"]) for entry in results["history"]])


class Collected:
    """An ``on_outcome`` that keeps every outcome by key."""

    def __init__(self) -> None:
        self.outcomes: dict[str, Outcome] = {}

    def __call__(self, outcome: Outcome) -> None:
        assert outcome.key not in self.outcomes, "each task is reported once"
        self.outcomes[outcome.key] = outcome
