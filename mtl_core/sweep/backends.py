"""Where trials train: ``local``, a pool of processes on this machine, or ``ray``, Ray Tune on this machine or a
cluster. Both take the same tasks (a config dict each) and hand back the same outcomes, in the order they end.

A task that raises, or whose worker process dies, is tried once more, then ends ``failed`` with the reason;
the others go on. Once ``should_stop()`` turns true (a cancel, Ctrl-C) no task starts and the running ones stop
before their next epoch, their history kept. Fixed seeds give the same numbers on both backends: each trial's
config carries its seed and its thread count.
"""

from __future__ import annotations

import importlib
import multiprocessing
import signal
import threading
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Literal, Protocol, TypeAlias

from mtl_core.errors import MTLError

BACKENDS = ("local", "ray")
ATTEMPTS = 2  # a failed task is tried once more
OutcomeStatus: TypeAlias = Literal["done", "failed", "stopped"]
StopCheck: TypeAlias = Callable[[], bool]


class SweepError(MTLError, RuntimeError):
    """A trial or a backend cannot do what was asked (a missing package, a cluster out of reach, a run that failed)."""


@dataclass(frozen=True, slots=True)
class Task:
    """One training to run: its key (the caller's), its config dict, and the metric an early stop compares."""

    key: str
    config: dict[str, Any]
    metric: str | None = None  # <split>.<task>.<metric>; reported per epoch (its validation value) for ASHA


@dataclass(frozen=True, slots=True)
class Outcome:
    """How a task ended: ``done`` with its results dict, ``failed`` with the reason, or ``stopped`` early (by a
    cancel or a scheduler) with the epochs it had trained."""

    key: str
    status: OutcomeStatus
    results: dict[str, Any] | None = None
    reason: str = ""
    attempts: int = 1
    history: list[dict[str, Any]] = field(default_factory=list)


OnOutcome: TypeAlias = Callable[[Outcome], None]


class Backend(Protocol):
    """Runs tasks and reports each one's outcome as it ends (on the caller's thread)."""

    name: str
    max_concurrent: int

    def run(self, tasks: Sequence[Task], on_outcome: OnOutcome, should_stop: StopCheck | None = None) -> None:
        """Run every task (until ``should_stop()``), calling ``on_outcome`` once for each task that started."""


def require(module: str, package: str) -> ModuleType:
    """Import an optional dependency, or SweepError saying what to install."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise SweepError(f"{module} is not installed; pip install \"{package}\" (or pip install -r "
                         f"requirements-scale.txt)") from None


def make_backend(name: str, *, max_concurrent: int, address: str | None = None, cpus: float = 1.0, gpus: float = 0.0,
                 scheduler: Any = None, mode: str = "min") -> Backend:
    """The backend called ``name`` (``local`` or ``ray``); ``address`` joins a Ray cluster (ray only)."""
    if name == "local":
        if address:
            from mtl_core.errors import ConfigError

            raise ConfigError(f"--address {address!r} is for --backend ray; the local backend runs on this machine")
        if scheduler is not None:
            from mtl_core.errors import ConfigError

            raise ConfigError('scheduler = "asha" needs the ray backend (--backend ray); the local backend runs '
                              'every trial to its last epoch')
        return LocalBackend(max_concurrent, threads=max(1, int(cpus)))
    if name == "ray":
        from mtl_core.sweep.ray_backend import RayBackend

        return RayBackend(max_concurrent, address=address, cpus=cpus, gpus=gpus, scheduler=scheduler, mode=mode)
    from mtl_core.errors import ConfigError

    raise ConfigError(f"backend {name!r}: use {' or '.join(BACKENDS)}")


# -- local: a process per concurrent trial ---------------------------------------------------------------------

_STOP: Any = None  # in a worker: the pool's stop event


def _start_worker(threads: int, stop: Any) -> None:
    """A worker's set-up: Ctrl-C is the driver's to handle (it sets ``stop``), and torch gets ``threads``."""
    global _STOP
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _STOP = stop
    from mtl_core.train.trainer import pin_threads

    pin_threads(threads)


def _run_task(config: dict[str, Any]) -> dict[str, Any]:
    from mtl_core.sweep.trial import execute

    return execute(config, should_stop=_STOP.is_set if _STOP is not None else None)


class LocalBackend:
    """``max_concurrent`` worker processes (spawned, each a one-process ``ProcessPoolExecutor``, so a process
    that dies takes only its own task down and is replaced), each with ``threads`` torch threads.

    Spawned workers import the caller's main module again: a script that runs a sweep must start it under
    ``if __name__ == "__main__":`` (the command line, pytest and Streamlit already do)."""

    name = "local"

    def __init__(self, max_concurrent: int, threads: int = 1) -> None:
        self.max_concurrent, self.threads = max(1, max_concurrent), threads

    def run(self, tasks: Sequence[Task], on_outcome: OnOutcome, should_stop: StopCheck | None = None) -> None:
        """Run the tasks, at most ``max_concurrent`` at once; see the module docstring for faults and stops."""
        context = multiprocessing.get_context("spawn")
        stop = context.Event()
        slots: list[ProcessPoolExecutor | None] = [None] * min(self.max_concurrent, len(tasks))
        pending = deque((task, 1) for task in tasks)
        running: dict[Future[dict[str, Any]], tuple[int, Task, int]] = {}
        try:
            while pending or running:
                if should_stop is not None and should_stop():
                    stop.set()
                self._start(slots, pending, running, stop, context)
                if not running:
                    break
                done, _ = wait(running, timeout=0.25, return_when=FIRST_COMPLETED)
                for future in done:
                    self._settle(future, running.pop(future), slots, pending, stop, on_outcome)
        except KeyboardInterrupt:
            stop.set()  # the running trials end at their next epoch, as "stopped", and are reported
            for future in wait(running, timeout=60).done:
                self._settle(future, running.pop(future), slots, pending, stop, on_outcome)
            raise
        except Exception:
            stop.set()  # the caller gave up (its handler raised): the running trials stop too
            raise
        finally:
            for executor in slots:
                if executor is not None:
                    executor.shutdown(wait=False, cancel_futures=True)

    def _start(self, slots: list[ProcessPoolExecutor | None], pending: deque[tuple[Task, int]],
               running: dict[Future[dict[str, Any]], tuple[int, Task, int]], stop: Any, context: Any) -> None:
        busy = {slot for slot, _, _ in running.values()}
        for slot in range(len(slots)):
            if not pending or stop.is_set():
                return
            if slot in busy:
                continue
            if slots[slot] is None:
                slots[slot] = ProcessPoolExecutor(1, mp_context=context, initializer=_start_worker,
                                                  initargs=(self.threads, stop))
            task, attempt = pending.popleft()
            executor = slots[slot]
            assert executor is not None
            running[executor.submit(_run_task, task.config)] = (slot, task, attempt)

    def _settle(self, future: Future[dict[str, Any]], started: tuple[int, Task, int],
                slots: list[ProcessPoolExecutor | None], pending: deque[tuple[Task, int]], stop: Any,
                on_outcome: OnOutcome) -> None:
        slot, task, attempt = started
        try:
            results = future.result()
        except BrokenProcessPool:
            reason = "its worker process ended abruptly (killed, out of memory, or exited without a result)"
            executor, slots[slot] = slots[slot], None  # a new process for the next task
            if executor is not None:
                executor.shutdown(wait=False)
        except Exception as error:  # a trial's own error, reported as its reason: the sweep goes on
            reason = f"{type(error).__name__}: {error}"
        else:
            status: OutcomeStatus = "stopped" if results["status"] == "stopped" and stop.is_set() else "done"
            on_outcome(Outcome(task.key, status, results, results.get("reason", ""), attempt))
            return
        if attempt < ATTEMPTS and not stop.is_set():
            pending.appendleft((task, attempt + 1))
        else:
            on_outcome(Outcome(task.key, "failed", None, reason, attempt))


def stop_flag() -> tuple[Callable[[], bool], Callable[[], None]]:
    """A (should_stop, stop) pair over a thread-safe flag."""
    event = threading.Event()
    return event.is_set, event.set
