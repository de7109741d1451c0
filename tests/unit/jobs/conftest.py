"""Shared-server job fixtures: tiny diabetes runs, a manager with a store of its own, stopped afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mtl_core import limits
from mtl_core.config import ExperimentConfig
from mtl_core.jobs import JobManager
from mtl_core.store import RunStore

TIMEOUT = 60.0  # seconds; a tiny diabetes run takes well under one
LONG = limits.MAX_EPOCHS  # a run that only ends early because it is stopped
ANN, BOB, CAT = "ann" * 6, "bob" * 6, "cat" * 6  # owner ids as the pages make them (16+ characters)


def tiny(epochs: int = 2) -> ExperimentConfig:
    """Diabetes (no download), a small model, full batch."""
    return ExperimentConfig.from_dict({
        "data": {"dataset": "diabetes"}, "model": {"hidden": [8]}, "train": {"epochs": epochs, "seed": 0},
    })


def finished(manager: JobManager, job_id: str) -> str:
    """Wait for the job to end and return its status."""
    assert manager.wait(job_id, timeout=TIMEOUT), f"job {job_id} did not end within {TIMEOUT} s"
    return manager.status(job_id)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[RunStore]:
    opened = RunStore(tmp_path / "runs.sqlite")
    yield opened
    opened.close()


@pytest.fixture
def make_manager(store: RunStore) -> Iterator[object]:
    """``make_manager(**settings)``: a JobManager storing into ``store``; its jobs are all stopped afterwards."""
    made: list[JobManager] = []

    def make(**settings: object) -> JobManager:
        manager = JobManager(store=store, **settings)  # type: ignore[arg-type]
        made.append(manager)
        return manager
    yield make
    for manager in made:
        manager.cancel_all()
        for job_id in manager.job_ids():
            manager.wait(job_id, timeout=TIMEOUT)
