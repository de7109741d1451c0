"""A job's state in the JobManager (``_Job``, under its lock), the snapshot pages read, how a run trains into
the run store, and the checks a run is stopped or failed by on a shared server: its wall time, memory running out."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

from mtl_core.admission import limit_text
from mtl_core.config import ExperimentConfig
from mtl_core.experiment import Experiment
from mtl_core.results import RunResults
from mtl_core.store import RunStore, dataset_fingerprint
from mtl_core.store.checkpoints import LastWeights
from mtl_core.train.events import EpochEnded, Event

__all__ = ["ACTIVE", "JobSnapshot", "JobStatus", "Work", "memory_message", "stop_check", "train_stored"]

Work: TypeAlias = Callable[[Callable[[], bool], Callable[[int, int, str], None]], dict[str, Any]]
"""A job's work: ``work(should_stop, report)`` returns a results dict; ``report(done, total, label)``."""
JobStatus: TypeAlias = Literal["queued", "running", "completed", "diverged", "stopped", "failed"]
ACTIVE: frozenset[str] = frozenset({"queued", "running"})


@dataclass(frozen=True, slots=True)
class JobSnapshot:
    """One consistent view of a job, taken under the manager's lock. ``results`` is a private copy."""

    job_id: str
    status: JobStatus
    position: int | None  # place in the queue while queued: 1 = next to start
    epochs: int  # planned epochs
    events: tuple[Event, ...]
    results: dict[str, Any] | None  # the collect_results dict once the run has ended
    error: str | None  # why a failed job failed
    started_at: float | None  # time.monotonic() when training began
    ended_at: float | None  # time.monotonic() when the job reached a final status
    progress: tuple[int, int, str] | None = None  # work jobs: (done, total, what was done last)
    run_id: str | None = None  # the run's id in the manager's RunStore; None without a store and for work jobs
    group_id: str | None = None  # a work job's group of runs in the store (submit_work(..., group=...))

    @property
    def active(self) -> bool:
        """Whether the job is still queued or running."""
        return self.status in ACTIVE

    @property
    def epochs_done(self) -> int:
        """How many epochs have ended so far."""
        return sum(isinstance(event, EpochEnded) for event in self.events)


@dataclass(eq=False, slots=True)
class _Job:
    """A job's mutable state; every field is read and written under the manager's lock."""

    job_id: str
    config: ExperimentConfig  # resolved: the data set's default tasks filled in
    stop: threading.Event
    stop_reason: str | None = None  # why the manager, not the user, stopped it
    work: Work | None = None  # a work job (a comparison): called instead of consuming a run's events
    progress: tuple[int, int, str] | None = None
    done: threading.Event = field(default_factory=threading.Event)
    status: JobStatus = "queued"
    events: list[Event] = field(default_factory=list)
    results: dict[str, Any] | None = None
    error: str | None = None
    started_at: float | None = None
    ended_at: float | None = None
    run_id: str | None = None  # the run's id in the store, when the manager has one
    group_id: str | None = None  # a work job's group in the store
    owner: str | None = None

MEMORY_ERRORS = ("not enough memory", "DefaultCPUAllocator", "out of memory")  # in a RuntimeError: memory ran out


def memory_message(error: BaseException) -> str | None:
    """The user's message when ``error`` means the server ran out of memory for a run, else None."""
    if isinstance(error, MemoryError) or (isinstance(error, RuntimeError)
                                          and any(text in str(error) for text in MEMORY_ERRORS)):
        return ("the server ran out of memory for this run: choose fewer units or layers, a smaller batch or "
                "less data, or try again when fewer runs are training")
    return None


def stop_check(job: _Job, max_run_seconds: float) -> Callable[[], bool | str]:
    """A run's stop check from now on: the user's Stop, the manager's cancel (its reason), or the wall time."""
    started = time.monotonic()

    def should_stop() -> bool | str:
        if job.stop.is_set():
            return job.stop_reason or True
        if (elapsed := time.monotonic() - started) > max_run_seconds:
            return (f"stopped after {elapsed:,.0f} s of training: "
                    f"{limit_text('MAX_RUN_SECONDS', max_run_seconds, 'seconds of training per run')}; "
                    "the history so far is kept")
        return False
    return should_stop


def train_stored(experiment: Experiment, store: RunStore, run_id: str,
                 record: Callable[[Event], None]) -> dict[str, Any]:
    """Train ``experiment``: each event to ``record``, the store and the run's folder; the weights (best.pt, last.pt)
    and results to the folder at the end. Returns the results dict."""
    from mtl_core.runs import RunFolder

    last = LastWeights(experiment.model, experiment.config.train.select)
    with RunFolder(store.run_dir(run_id), experiment.config, experiment.dataset) as folder:
        stored = store.recorder(run_id)

        def handle(event: Event) -> None:
            stored(event)
            folder.update(event)
            last.update(event)
            record(event)
        results: RunResults = experiment.results(on_event=handle)
    folder.finish(results, experiment.model, last)  # last.pt is in the folder, and in its manifest, when swapped in
    store.finish(run_id, results, dataset_fingerprint=dataset_fingerprint(folder.folder))
    store.add_artefacts(run_id)
    return results.to_dict()
