"""Run-store fixtures: a store in a temporary folder, a short diabetes run trained into it."""

from __future__ import annotations

from pathlib import Path

import pytest

from mtl_core.config import ExperimentConfig
from mtl_core.experiment import Experiment
from mtl_core.results import RunResults
from mtl_core.store import RunStore

ROOT = Path(__file__).resolve().parents[3]
DIABETES_TOML = ROOT / "examples" / "diabetes.toml"


def diabetes(epochs: int = 3, **train: object) -> ExperimentConfig:
    """The built-in diabetes data set (no download), its default two tasks, a few epochs."""
    return ExperimentConfig.from_dict({"data": {"dataset": "diabetes"}, "train": {"epochs": epochs, **train}})


def train_into(store: RunStore, config: ExperimentConfig, **start: object) -> tuple[str, RunResults]:
    """Train ``config`` with the store's recorder, as the CLI and the jobs do; returns the run id and results."""
    experiment = Experiment(config)
    run_id = store.start_run(experiment.config, **start)  # type: ignore[arg-type]
    results = experiment.results(on_event=store.recorder(run_id))
    store.finish(run_id, results)
    return run_id, results


@pytest.fixture
def store(tmp_path: Path) -> RunStore:
    """An empty store of its own."""
    opened = RunStore(tmp_path / "store" / "runs.sqlite")
    yield opened
    opened.close()
