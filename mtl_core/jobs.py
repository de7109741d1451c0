"""Background training jobs for the UI: bounded threads, a FIFO queue, cancel, and a buffer of events per job.

A page submits an ``ExperimentConfig`` and keeps the job id; a worker thread consumes the run's events
into the job's buffer, and the page reads them back while it polls. At most ``max_running`` runs train
at once; later ones wait in submission order. Nothing here imports Streamlit.

Given a ``RunStore``, the manager stores every run it trains as it goes (the run row at submit, each
epoch as it ends, the results and the run folder at the end), under the ``owner`` it was submitted
with, and marks ``interrupted`` the runs a dead process left running when it is created. The
process-wide ``job_manager()`` opens the default store unless ``MTL_STORE=off``.

>>> manager = JobManager(max_running=1)
>>> job = manager.submit(ExperimentConfig.from_dict({"data": {"dataset": "diabetes"}, "train": {"epochs": 2}}))
>>> manager.wait(job, timeout=60)
True
>>> manager.status(job), len(manager.results(job)["history"])
('completed', 2)
"""

from __future__ import annotations

import copy
import io
import logging
import os
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

import torch

from mtl_core.config import ExperimentConfig
from mtl_core.errors import MTLError, UnknownJobError
from mtl_core.experiment import Experiment
from mtl_core.results import RunResults
from mtl_core.store import RunStore, dataset_fingerprint, default_path
from mtl_core.store.records import GroupKind
from mtl_core.store.checkpoints import LastWeights
from mtl_core.train.events import EpochEnded, Event

__all__ = [
    "ACTIVE", "Event", "JobManager", "JobSnapshot", "JobStatus", "UnknownJobError", "job_manager",
]

Work: TypeAlias = Callable[[Callable[[], bool], Callable[[int, int, str], None]], dict[str, Any]]
"""A job's work: ``work(should_stop, report)`` returns a results dict; ``report(done, total, label)``."""
JobStatus: TypeAlias = Literal["queued", "running", "completed", "diverged", "stopped", "failed"]
ACTIVE: frozenset[str] = frozenset({"queued", "running"})
SWITCH_INTERVAL_S = 0.0005  # see JobManager._serve
KEEP_FINISHED = 100  # finished jobs remembered; older ones are forgotten so a long-lived server stays small

logger = logging.getLogger(__name__)


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
    experiment: Experiment | None  # built at submit; kept until the run ends, to save the evaluated weights
    stop: threading.Event
    weights: bytes | None = None  # the evaluated model's state_dict as ``torch.save`` bytes, once the run ended
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


class JobManager:
    """Runs training jobs on threads, at most ``max_running`` at once, the rest in a FIFO queue.

    Args:
        max_running: concurrent trainings; default ``os.cpu_count()``.
        keep_finished: finished jobs remembered before the oldest are forgotten.
        store: where each run is stored as it trains (and read back after a restart); None stores nothing.
    """

    def __init__(self, max_running: int | None = None, keep_finished: int = KEEP_FINISHED,
                 store: RunStore | None = None) -> None:
        if max_running is not None and max_running < 1:
            raise ValueError(f"max_running = {max_running}: at least one job must be able to run")
        self.max_running = max_running or os.cpu_count() or 1
        # the cores shared out between the jobs that may run at once: more threads than cores make every
        # run wait for the slowest thread at each operation (a run's own train.threads still wins)
        self.threads_per_job = max(1, (os.cpu_count() or 1) // self.max_running)
        self.keep_finished = keep_finished
        self.store = store
        if store is not None:
            store.mark_interrupted()  # runs a crashed server left "running"
        lock = threading.Lock()
        self._changed = threading.Condition(lock)  # notified on every event and status change
        # idle workers wait on a condition of their own, notified only when a job starts: waiting on
        # ``_changed`` would wake every idle worker at every epoch of every run, and each wake-up takes
        # the interpreter lock from the training threads (measured: a run trained 10-25 % slower)
        self._work_ready = threading.Condition(lock)
        self._idle_workers = 0
        self._jobs: dict[str, _Job] = {}  # in submission order
        self._queue: deque[str] = deque()
        self._running: set[str] = set()
        self._ready: deque[_Job] = deque()  # started jobs a worker has not picked up yet
        self._workers: list[threading.Thread] = []

    def submit(self, config: ExperimentConfig, owner: str | None = None) -> str:
        """Check the config, load its data and build the model now, then queue the run; returns the job id.

        With a store, the run is stored at once (``run_id(job)`` gives its id) under ``owner`` (the browser
        session that started it).

        Raises:
            MTLError: the data or a setting is bad; nothing is queued.
        """
        stop = threading.Event()
        experiment = Experiment(config, stop.is_set)  # loads data and checks settings: user errors surface here
        job = _Job(uuid.uuid4().hex[:12], experiment.config, experiment, stop)
        if self.store is not None:
            from mtl_core.runs import portable

            job.run_id = self.store.start_run(portable(experiment.config), owner=owner, source="dashboard")
        with self._changed:
            self._jobs[job.job_id] = job
            self._queue.append(job.job_id)
            self._start_queued()
            self._forget_old()
        return job.job_id

    def submit_work(self, work: Work, config: ExperimentConfig, total: int, *, owner: str | None = None,
                    group: GroupKind | None = None) -> str:
        """Queue a longer piece of work (a comparison of many runs) under the same limit and queue as runs.

        ``work(should_stop, report)`` runs on a worker thread; ``report(done, total, label)`` updates the
        job's progress, ``should_stop()`` turns true once it is cancelled, and the dict it returns becomes
        the job's results (its ``status`` key, if any, the job's final status). ``config`` is what the
        work is about (shown with the job); ``total`` the number of steps it will report.

        With a store and ``group`` ("compare", "pareto" or "study"), the work is stored as a group of runs under
        ``owner``: ``work`` is then called with a third argument, ``on_run(method, results)``, to pass on to
        ``compare``, ``pareto`` or ``study`` (each run is stored as it ends), and the dict it returns is stored as
        the group's summary (``snapshot(job).group_id`` names the group).
        """
        job = _Job(uuid.uuid4().hex[:12], config, None, threading.Event(), work=work, progress=(0, total, "queued"),
                   owner=owner)
        if self.store is not None and group is not None:
            job.group_id = self.store.start_group(group, config, owner=owner, source="dashboard")
        with self._changed:
            self._jobs[job.job_id] = job
            self._queue.append(job.job_id)
            self._start_queued()
            self._forget_old()
        return job.job_id

    def cancel(self, job_id: str) -> bool:
        """Stop a job: a queued one never starts; a running one ends before its next epoch, history kept.

        Returns:
            True when the job was still queued or running.
        """
        with self._changed:
            job = self._get(job_id)
            if job.status == "queued":
                self._queue.remove(job_id)
                self._finish(job, "stopped")
                if self.store is not None and job.run_id is not None:
                    self.store.fail(job.run_id, "stopped before it started", status="stopped")
                if self.store is not None and job.group_id is not None:
                    self.store.finish_group(job.group_id, {"status": "stopped", "notes": ["stopped before it started"]})
                return True
            job.stop.set()  # the trainer checks this before every epoch
            return job.status == "running"

    def cancel_all(self) -> None:
        """Cancel every queued and running job (for shutdown and test teardown)."""
        with self._changed:
            active = [job_id for job_id, job in self._jobs.items() if job.status in ACTIVE]
        for job_id in active:
            self.cancel(job_id)

    def wait(self, job_id: str, timeout: float | None = None) -> bool:
        """Block until the job reaches a final status; False when ``timeout`` seconds pass first."""
        with self._changed:
            job = self._get(job_id)
        return job.done.wait(timeout)

    def wait_for_events(self, job_id: str, count: int, timeout: float | None = None) -> bool:
        """Block until the job has buffered at least ``count`` events or has ended; True when it has them."""
        with self._changed:
            job = self._get(job_id)
            self._changed.wait_for(lambda: len(job.events) >= count or job.done.is_set(), timeout)
            return len(job.events) >= count

    def job_ids(self) -> list[str]:
        """The ids of the jobs this manager remembers, oldest first."""
        with self._changed:
            return list(self._jobs)

    def events(self, job_id: str, start: int = 0) -> list[Event]:
        """A copy of the job's events so far, from index ``start`` on (events are immutable values)."""
        with self._changed:
            return list(self._get(job_id).events[start:])

    def status(self, job_id: str) -> JobStatus:
        """queued, running, completed, diverged, stopped or failed."""
        with self._changed:
            return self._get(job_id).status

    def position(self, job_id: str) -> int | None:
        """The job's place in the queue (1 = next to start), or None when it is not queued."""
        with self._changed:
            self._get(job_id)
            return self._queue.index(job_id) + 1 if job_id in self._queue else None

    def results(self, job_id: str) -> dict[str, Any] | None:
        """A copy of the results dict (as ``collect_results`` returns it) once the run has ended, else None."""
        with self._changed:
            return copy.deepcopy(self._get(job_id).results)

    def weights(self, job_id: str) -> bytes | None:
        """The evaluated model's weights (a ``torch.save``d state_dict) once the run has ended, else None.

        ``torch.load(io.BytesIO(data), weights_only=True)`` reads them back; for a run with
        ``train.select`` they are the selected epoch's weights, as in ``run --run-dir``.
        """
        with self._changed:
            return self._get(job_id).weights

    def run_id(self, job_id: str) -> str | None:
        """The job's run id in the manager's store (None without a store, and for work jobs)."""
        with self._changed:
            return self._get(job_id).run_id

    def error(self, job_id: str) -> str | None:
        """Why the job failed, or None."""
        with self._changed:
            return self._get(job_id).error

    def config(self, job_id: str) -> ExperimentConfig:
        """The job's config, with the data set's default tasks filled in."""
        with self._changed:
            return self._get(job_id).config

    def snapshot(self, job_id: str) -> JobSnapshot:
        """Status, queue place, events and results of one job, all read at the same moment."""
        with self._changed:
            job = self._get(job_id)
            return JobSnapshot(
                job_id=job_id, status=job.status,
                position=self._queue.index(job_id) + 1 if job_id in self._queue else None,
                epochs=job.config.train.epochs, events=tuple(job.events),
                results=copy.deepcopy(job.results), error=job.error,
                started_at=job.started_at, ended_at=job.ended_at, progress=job.progress, run_id=job.run_id,
                group_id=job.group_id,
            )

    def _get(self, job_id: str) -> _Job:
        try:
            return self._jobs[job_id]
        except KeyError:
            raise UnknownJobError(
                f"no job with id {job_id!r}: it was never submitted in this process, or it finished long ago "
                f"and was forgotten (the last {self.keep_finished} finished jobs are kept). Start the run again."
            ) from None

    def _start_queued(self) -> None:
        """Start queued jobs while slots are free. Caller holds the lock."""
        while self._queue and len(self._running) < self.max_running:
            job = self._jobs[self._queue.popleft()]
            job.status, job.started_at = "running", time.monotonic()
            self._running.add(job.job_id)
            self._ready.append(job)
            if len(self._ready) > self._idle_workers and len(self._workers) < self.max_running:
                sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL_S))
                worker = threading.Thread(target=self._serve, name=f"mtl-worker-{len(self._workers)}", daemon=True)
                self._workers.append(worker)
                self._idle_workers += 1  # counted from now, so the next start does not spawn another
                worker.start()
            self._work_ready.notify()
        self._changed.notify_all()

    def _serve(self) -> None:
        """A worker thread for the manager's lifetime: take the next started job, run it, wait for another.

        Long-lived workers, not a thread per job: PyTorch's CPU thread pool belongs to the thread that
        uses it, and each new training thread would start (and leave behind) a pool of its own, which
        measurably slows every later run on a small machine. For the same reason of sharing one
        interpreter with a busy page server, the interpreter's thread switch interval is lowered to
        ``SWITCH_INTERVAL_S`` once workers exist: a training step releases the interpreter lock at every
        tensor operation, and with the default 5 ms it waits that long for it whenever a page is drawn.
        """
        torch.set_num_threads(self.threads_per_job)
        while True:
            with self._changed:
                self._work_ready.wait_for(lambda: bool(self._ready))
                job = self._ready.popleft()
                self._idle_workers -= 1
            try:
                self._work(job)
            finally:
                with self._changed:
                    self._idle_workers += 1

    def _work(self, job: _Job) -> None:
        """The worker thread: consume the run's events into the buffer (or do the work), then record how it ended."""
        assert job.experiment is not None or job.work is not None, "a job runs once"
        try:
            if job.work is not None:
                results = self._do_work(job, job.work)
            else:
                assert job.experiment is not None
                results = self._train(job, job.experiment)
        except MTLError as error:
            self._fail(job, str(error))
        except Exception as error:  # a bug, not a user error: log it, and keep the page and the queue alive
            logger.exception("training job %s failed", job.job_id)
            self._fail(job, f"{type(error).__name__}: {error}")
        else:
            weights = state_bytes(job.experiment.model) if job.experiment is not None else None
            self._end(job, results["status"], results=results, weights=weights)

    def _do_work(self, job: _Job, work: Work) -> dict[str, Any]:
        """Call a work job (with ``on_run`` when it is stored as a group) and store its summary."""
        def report(done: int, total: int, label: str) -> None:
            self._report(job, done, total, label)
        if self.store is None or job.group_id is None:
            results = work(job.stop.is_set, report)
        else:
            on_run = self.store.group_recorder(job.group_id, owner=job.owner, source="dashboard")
            results = work(job.stop.is_set, report, on_run)  # type: ignore[call-arg]
        results.setdefault("status", "stopped" if job.stop.is_set() else "completed")
        if self.store is not None and job.group_id is not None:
            self.store.finish_group(job.group_id, results)
        return results

    def _train(self, job: _Job, experiment: Experiment) -> dict[str, Any]:
        """Consume the run's events into the buffer and, with a store, into the store and the run's folder."""
        if self.store is None or job.run_id is None:
            return experiment.results(on_event=lambda event: self._record(job, event)).to_dict()
        from mtl_core.runs import RunFolder

        store, run_id = self.store, job.run_id
        last = LastWeights(experiment.model, experiment.config.train.select)
        with RunFolder(store.run_dir(run_id), experiment.config, experiment.dataset) as folder:
            stored = store.recorder(run_id)

            def handle(event: Event) -> None:
                stored(event)
                folder.update(event)
                last.update(event)
                self._record(job, event)
            results: RunResults = experiment.results(on_event=handle)
        folder.finish(results, experiment.model)
        last.save(folder.folder, results.status)
        store.finish(run_id, results, dataset_fingerprint=dataset_fingerprint(folder.folder))
        store.add_artefacts(run_id)
        return results.to_dict()

    def _fail(self, job: _Job, message: str) -> None:
        try:
            if self.store is not None and job.run_id is not None:
                self.store.fail(job.run_id, message)
            if self.store is not None and job.group_id is not None:
                self.store.fail_group(job.group_id, message)
        except MTLError:  # the store itself failed: the job's own message says more
            logger.exception("could not store the failure of job %s", job.job_id)
        self._end(job, "failed", error=message)

    def _report(self, job: _Job, done: int, total: int, label: str) -> None:
        with self._changed:
            job.progress = (done, total, label)
            self._changed.notify_all()

    def _record(self, job: _Job, event: Event) -> None:
        with self._changed:
            job.events.append(event)
            self._changed.notify_all()

    def _end(self, job: _Job, status: JobStatus, results: dict[str, Any] | None = None,
             error: str | None = None, weights: bytes | None = None) -> None:
        with self._changed:
            job.results, job.error, job.weights, job.work = results, error, weights, None
            self._running.discard(job.job_id)
            self._finish(job, status)
            self._start_queued()
            self._forget_old()

    def _finish(self, job: _Job, status: JobStatus) -> None:
        """Give the job its final status and wake its waiters. Caller holds the lock."""
        job.status, job.ended_at, job.experiment = status, time.monotonic(), None
        job.done.set()
        self._changed.notify_all()

    def _forget_old(self) -> None:
        """Drop the oldest finished jobs beyond ``keep_finished``. Caller holds the lock."""
        finished = [job_id for job_id, job in self._jobs.items() if job.status not in ACTIVE]
        for job_id in finished[: max(len(finished) - self.keep_finished, 0)]:
            del self._jobs[job_id]


def state_bytes(model: torch.nn.Module) -> bytes:
    """A model's state_dict on the CPU, serialised by ``torch.save``."""
    buffer = io.BytesIO()
    torch.save({name: value.detach().cpu() for name, value in model.state_dict().items()}, buffer)
    return buffer.getvalue()


_manager: JobManager | None = None
_manager_lock = threading.Lock()


def job_manager() -> JobManager:
    """The process-wide JobManager (shared by every browser session); ``MTL_MAX_JOBS`` caps its concurrency.

    Its runs are stored in ``RunStore(default_path())`` (``$MTL_DB``, ``$MTL_HOME``, ...) unless
    ``MTL_STORE=off`` or that file cannot be opened (logged).
    """
    global _manager
    with _manager_lock:
        if _manager is None:
            limit = os.environ.get("MTL_MAX_JOBS", "").strip()
            _manager = JobManager(int(limit) if limit.isdigit() and int(limit) > 0 else None, store=_default_store())
        return _manager


def _default_store() -> RunStore | None:
    """The dashboard's run store; None with ``MTL_STORE=off``, or (logged) when it cannot be opened, so the
    dashboard still trains."""
    if os.environ.get("MTL_STORE", "").strip().lower() == "off":
        return None
    try:
        return RunStore(default_path())
    except MTLError:
        logger.exception("the run store cannot be opened; runs will not be stored (set MTL_HOME or MTL_DB)")
        return None

