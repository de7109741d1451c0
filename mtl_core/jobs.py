"""Background training jobs for the UI: bounded threads, a fair queue, cancel, and a buffer of events per job.

A page submits an ``ExperimentConfig`` and keeps the job id; a worker thread consumes the run's events
into the job's buffer, and the page reads them back while it polls. At most ``max_running`` runs train
at once; later ones wait, one line per visitor served round robin (``mtl_core.admission``), a visitor
limited to ``MAX_ACTIVE_PER_VISITOR`` training and ``MAX_QUEUED_PER_VISITOR`` waiting runs. Submitting
checks the settings only; the data is loaded and the model built when the run starts. A run stops after
``MAX_RUN_SECONDS``; a visitor's runs stop once its pages have not been seen (``touch``) for
``DISCONNECT_GRACE_S``; running out of memory fails the run with a message, never the worker. PyTorch's
thread count is process-wide, so the manager owns it: every run gets ``cores // max_running`` threads,
whatever its ``train.threads``. Nothing here imports Streamlit.

Given a ``RunStore``, the manager stores every run it trains as it goes (the run row at submit, each
epoch as it ends, the results and the run folder, weights included, at the end), under the ``owner`` it
was submitted with, and marks ``interrupted`` the runs a dead process left running when it is created.
Finished jobs keep their results in memory (the last ``keep_finished``), never their weights: ``weights``
reads them from the run's folder. The process-wide ``job_manager()`` opens the default store unless
``MTL_STORE=off``.

>>> manager = JobManager(max_running=1)
>>> job = manager.submit(ExperimentConfig.from_dict({"data": {"dataset": "diabetes"}, "train": {"epochs": 2}}))
>>> manager.wait(job, timeout=60)
True
>>> manager.status(job), len(manager.results(job)["history"])
('completed', 2)
"""

from __future__ import annotations

import copy
import logging
import os
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from typing import Any

from mtl_core import limits
from mtl_core.admission import Admission, Heartbeats, Janitor, VisitorLimitError, limit_text
from mtl_core.config import ExperimentConfig
from mtl_core.errors import ConfigError, MTLError, UnknownJobError
from mtl_core.experiment import Experiment, check
from mtl_core.job_state import (
    ACTIVE, JobSnapshot, JobStatus, Work, _Job, memory_message, stop_check, train_stored,
)
from mtl_core.store import RunStore, default_path
from mtl_core.store.records import GroupKind
from mtl_core.train.events import Event  # noqa: F401 (re-exported)
from mtl_core.train.trainer import pin_threads

__all__ = [
    "ACTIVE", "Event", "JobManager", "JobSnapshot", "JobStatus", "UnknownJobError", "VisitorLimitError",
    "job_manager",
]

SWITCH_INTERVAL_S = 0.0005  # see JobManager._serve
# The niceness of the threads that train (Linux: 0 to 19, higher yields more; MTL_TRAINING_NICE, 0 turns it off):
# on a small shared host the runs take every core they can, and the pages' script runs (each visitor's click) and
# the server's messages wait behind them. Niced, training uses the cores the pages leave and the pages answer first.
TRAINING_NICE = min(19, int(raw)) if (raw := os.environ.get("MTL_TRAINING_NICE", "10").strip()).isdigit() else 10
logger = logging.getLogger(__name__)


class JobManager:
    """Runs training jobs on threads, at most ``max_running`` at once, the rest queued fairly by visitor.

    Args:
        max_running: concurrent trainings; default ``os.cpu_count()`` (``job_manager()``: ``MAX_JOBS``).
        keep_finished: finished jobs remembered (their results; weights stay in the run store's folder).
        store: where each run is stored as it trains (and read back after a restart); None stores nothing,
            weights included.
        max_active, max_queued: training and waiting runs per visitor (jobs submitted with an owner).
        grace_s: seconds a visitor may go unseen before its jobs are stopped.
        max_run_seconds: seconds a run may train before it is stopped.
        max_comparison_epochs: epochs a work job (a comparison) may train over all its runs.
    """

    def __init__(self, max_running: int | None = None, keep_finished: int = limits.MAX_KEPT_JOBS,
                 store: RunStore | None = None, *, max_active: int = limits.MAX_ACTIVE_PER_VISITOR,
                 max_queued: int = limits.MAX_QUEUED_PER_VISITOR, grace_s: float = limits.DISCONNECT_GRACE_S,
                 max_run_seconds: float = limits.MAX_RUN_SECONDS,
                 max_comparison_epochs: int = limits.MAX_COMPARISON_EPOCHS) -> None:
        if max_running is not None and max_running < 1:
            raise ValueError(f"max_running = {max_running}: at least one job must be able to run")
        self.max_running = max_running or os.cpu_count() or 1
        # the cores shared out between the jobs that may run at once: more threads than cores make every
        # run wait for the slowest thread at each operation
        self.threads_per_job = max(1, (os.cpu_count() or 1) // self.max_running)
        self.keep_finished, self.store = keep_finished, store
        self.max_run_seconds, self.max_comparison_epochs = max_run_seconds, max_comparison_epochs
        self.heartbeats = Heartbeats(grace_s)
        self.created = time.time()  # runs this start marks interrupted have ``finished`` at or after it
        self._janitor = Janitor(self.sweep, grace_s)
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
        self._queue = Admission(max_active, max_queued)
        self._running: set[str] = set()
        self._ready: deque[_Job] = deque()  # started jobs a worker has not picked up yet
        self._workers: list[threading.Thread] = []

    def submit(self, config: ExperimentConfig, owner: str | None = None) -> str:
        """Check the settings and queue the run (its data is loaded when it starts); returns the job id.

        With a store, the run is stored at once (``run_id(job)`` gives its id) under ``owner`` (the browser
        that started it: its line in the queue, its limits, the pages that must keep being seen).

        Raises:
            MTLError: a setting is bad, or (VisitorLimitError) ``owner`` has as many runs waiting as it may.
        """
        job = _Job(uuid.uuid4().hex[:12], check(config), threading.Event(), owner=owner)

        def stored() -> None:
            if self.store is not None:
                from mtl_core.runs import portable

                job.run_id = self.store.start_run(portable(job.config), owner=owner, source="dashboard")
        self._enqueue(job, stored)
        return job.job_id

    def submit_work(self, work: Work, config: ExperimentConfig, total: int, *, owner: str | None = None,
                    group: GroupKind | None = None) -> str:
        """Queue a longer piece of work (a comparison of many runs) under the same limits and queue as runs.

        ``work(should_stop, report)`` runs on a worker thread; ``report(done, total, label)`` updates the
        job's progress, ``should_stop()`` turns true once it is cancelled, and the dict it returns becomes
        the job's results (its ``status`` key, if any, the job's final status). ``config`` is what the
        work is about (shown with the job); ``total`` the number of runs of ``config.train.epochs`` it trains
        (and reports): more than ``max_comparison_epochs`` epochs in all is refused with a ConfigError.

        With a store and ``group`` ("compare", "pareto" or "study"), the work is stored as a group of runs under
        ``owner``: ``work`` is then called with a third argument, ``on_run(method, results)``, to pass on to
        ``compare``, ``pareto`` or ``study`` (each run is stored as it ends), and the dict it returns is stored as
        the group's summary (``snapshot(job).group_id`` names the group).
        """
        epochs = total * config.train.epochs
        if epochs > self.max_comparison_epochs:
            raise ConfigError(
                f"this comparison would train {total:,} runs × {config.train.epochs:,} epochs = {epochs:,} epochs: "
                f"{limit_text('MAX_COMPARISON_EPOCHS', self.max_comparison_epochs, 'epochs in one comparison')}. "
                "Choose fewer strategies, seeds, Pareto points or epochs.")
        job = _Job(uuid.uuid4().hex[:12], config, threading.Event(), work=work, progress=(0, total, "queued"),
                   owner=owner)

        def stored() -> None:
            if self.store is not None and group is not None:
                job.group_id = self.store.start_group(group, config, owner=owner, source="dashboard")
        self._enqueue(job, stored)
        return job.job_id

    def _enqueue(self, job: _Job, stored: Callable[[], None]) -> None:
        """Admit the job to its owner's line (refused past the visitor's limit), store it, start what may start."""
        with self._changed:
            self._queue.admit(job.job_id, job.owner, self._training(job.owner))
            self._jobs[job.job_id] = job
        self.heartbeats.touch(job.owner)
        if job.owner:
            self._janitor.start()
        try:
            stored()
        except BaseException:
            with self._changed:
                self._queue.remove(job.job_id)
                del self._jobs[job.job_id]
            raise
        with self._changed:
            self._start_queued()
            self._forget_old()

    def touch(self, owner: str | None) -> None:
        """Note that ``owner``'s pages are still open (every page run and live-panel poll calls this)."""
        self.heartbeats.touch(owner)

    def owns_active(self, owner: str | None) -> bool:
        """Whether ``owner`` has jobs queued or running."""
        with self._changed:
            return any(job.owner == owner and job.status in ACTIVE for job in self._jobs.values())

    def sweep(self, now: float | None = None) -> list[str]:
        """Stop the active jobs of visitors unseen for longer than the grace; returns the ids stopped.

        The janitor thread calls this regularly; ``now`` (``time.monotonic()`` by default) lets a test
        look ahead.
        """
        stopped: list[str] = []
        for owner in self.heartbeats.unseen(now):
            with self._changed:
                mine = [job_id for job_id, job in self._jobs.items() if job.owner == owner and job.status in ACTIVE]
            for job_id in mine:
                self.cancel(job_id, reason=self.heartbeats.reason())
            stopped += mine
            self.heartbeats.forget(owner)
        return stopped

    def cancel(self, job_id: str, reason: str | None = None) -> bool:
        """Stop a job: a queued one never starts; a running one ends before its next epoch, history kept.

        ``reason`` (the manager's own cancels) is stored as why it stopped; by default, the user stopped it.

        Returns:
            True when the job was still queued or running.
        """
        with self._changed:
            job = self._get(job_id)
            if job.status == "queued":
                self._queue.remove(job_id)
                job.stop_reason = reason or "stopped before it started"
                self._finish(job, "stopped")
                if self.store is not None and job.run_id is not None:
                    self.store.fail(job.run_id, job.stop_reason, status="stopped")
                if self.store is not None and job.group_id is not None:
                    self.store.finish_group(job.group_id, {"status": "stopped", "notes": [job.stop_reason]})
                return True
            if job.status == "running" and job.stop_reason is None:
                job.stop_reason = reason
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
            return self._queue.position(job_id)

    def results(self, job_id: str) -> dict[str, Any] | None:
        """A copy of the results dict (as ``collect_results`` returns it) once the run has ended, else None."""
        with self._changed:
            return copy.deepcopy(self._get(job_id).results)

    def weights(self, job_id: str) -> bytes | None:
        """The evaluated model's weights (a ``torch.save``d state_dict) once the run has ended, else None.

        Read from the run's folder in the store (``checkpoints/best.pt``): None without a store, and for a
        diverged run. ``torch.load(io.BytesIO(data), weights_only=True)`` reads them back; for a run with
        ``train.select`` they are the selected epoch's weights, as in ``run --run-dir``.
        """
        from mtl_core.runs import CHECKPOINT_FILE

        with self._changed:
            job = self._get(job_id)
            if job.status in ACTIVE or self.store is None or job.run_id is None:
                return None
            path = self.store.run_dir(job.run_id) / CHECKPOINT_FILE
        return path.read_bytes() if path.is_file() else None

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
                job_id=job_id, status=job.status, position=self._queue.position(job_id),
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

    def _training(self, owner: str | None) -> int:
        """How many of ``owner``'s jobs are running. Caller holds the lock."""
        return sum(self._jobs[job_id].owner == (owner or None) for job_id in self._running)

    def _start_queued(self) -> None:
        """Start queued jobs (round robin over visitors) while slots are free. Caller holds the lock."""
        while len(self._running) < self.max_running and (job_id := self._queue.next(self._training)) is not None:
            job = self._jobs[job_id]
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
        pin_threads(self.threads_per_job)
        lower_priority(TRAINING_NICE)
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
        """The worker thread: build and train the run (or do the work), then record how it ended."""
        try:
            results = self._do_work(job, job.work) if job.work is not None else self._train(job)
        except MTLError as error:
            self._fail(job, str(error))
        except Exception as error:
            if (memory := memory_message(error)) is not None:
                self._fail(job, memory)
            else:  # a bug, not a user error: log it, and keep the page and the queue alive
                logger.exception("training job %s failed", job.job_id)
                self._fail(job, f"{type(error).__name__}: {error}")
        else:
            self._end(job, results["status"], results=results)

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

    def _train(self, job: _Job) -> dict[str, Any]:
        """Load the data, build the model and train, into the buffer and, with a store, the store and run folder."""
        experiment = Experiment(job.config, stop_check(job, self.max_run_seconds))
        if self.store is None or job.run_id is None:
            return experiment.results(on_event=lambda event: self._record(job, event)).to_dict()
        return train_stored(experiment, self.store, job.run_id, lambda event: self._record(job, event))

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
             error: str | None = None) -> None:
        with self._changed:
            job.results, job.error, job.work = results, error, None
            self._running.discard(job.job_id)
            self._finish(job, status)
            self._start_queued()
            self._forget_old()

    def _finish(self, job: _Job, status: JobStatus) -> None:
        """Give the job its final status and wake its waiters. Caller holds the lock."""
        job.status, job.ended_at = status, time.monotonic()
        job.done.set()
        self._changed.notify_all()

    def _forget_old(self) -> None:
        """Drop the oldest finished jobs beyond ``keep_finished``. Caller holds the lock."""
        finished = [job_id for job_id, job in self._jobs.items() if job.status not in ACTIVE]
        for job_id in finished[: max(len(finished) - self.keep_finished, 0)]:
            del self._jobs[job_id]


def lower_priority(nice: int) -> None:
    """Raise the calling thread's niceness to ``nice`` (never lower it) where the system gives threads one each
    (Linux, where a thread is scheduled as a task of its own); elsewhere, or when refused, nothing changes."""
    if nice <= 0 or not sys.platform.startswith("linux"):
        return
    try:
        thread = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, thread, max(os.getpriority(os.PRIO_PROCESS, thread), nice))
    except OSError:  # a container that forbids it: the runs train at the server's priority
        logger.info("could not lower the priority of training thread to niceness %d", nice)


_manager: JobManager | None = None
_manager_lock = threading.Lock()


def job_manager() -> JobManager:
    """The process-wide JobManager (shared by every browser session), with the limits of ``mtl_core.limits``.

    Its runs are stored in ``RunStore(default_path())`` (``$MTL_DB``, ``$MTL_HOME``, ...) unless
    ``MTL_STORE=off`` or that file cannot be opened (logged).
    """
    global _manager
    with _manager_lock:
        if _manager is None:
            _manager = JobManager(limits.MAX_JOBS, store=_default_store())
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
