"""Who may queue work on a shared server, in which order it starts, and whose work nobody watches any more.

``Admission`` keeps one queue per visitor (the owner id a job was submitted with) and serves them round robin,
so one visitor's long queue never holds back another's single run. It refuses a visitor's job past
``MAX_QUEUED_PER_VISITOR`` waiting runs, and starts none of a visitor's runs while ``MAX_ACTIVE_PER_VISITOR``
of them are training. Jobs without an owner (the command line, tests) share one queue with no per-visitor limit.

``Heartbeats`` remembers when each visitor was last seen (every page run and every poll of a live panel
touches it); ``unseen(now)`` names the visitors silent for longer than the grace (``DISCONNECT_GRACE_S``),
whose work the job manager's janitor then stops. Nothing here imports PyTorch or Streamlit.

>>> queue = Admission(max_active=1, max_queued=2)
>>> for job, owner in [("a1", "ann"), ("a2", "ann"), ("b1", "bob")]:
...     queue.admit(job, owner, running=0)
>>> queue.next(lambda owner: 0), queue.next(lambda owner: 0), queue.next(lambda owner: 0)
('a1', 'b1', 'a2')
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

from mtl_core import limits
from mtl_core.errors import MTLError

__all__ = ["Admission", "Heartbeats", "Janitor", "VisitorLimitError", "limit_text"]

logger = logging.getLogger(__name__)
NO_OWNER = ""  # the queue of jobs submitted without an owner


class VisitorLimitError(MTLError, RuntimeError):
    """A visitor asked for more runs than a shared server gives one visitor at a time."""


def limit_text(name: str, value: float, what: str) -> str:
    """``at most 2 runs waiting per visitor (MTL_MAX_QUEUED_PER_VISITOR)`` for the value this manager uses."""
    return f"at most {value:,} {what} (MTL_{name})"


class Admission:
    """Per-visitor queues served round robin, with a cap on each visitor's waiting and training runs.

    Not thread-safe on its own: the job manager calls it under its lock.
    """

    def __init__(self, max_active: int = limits.MAX_ACTIVE_PER_VISITOR,
                 max_queued: int = limits.MAX_QUEUED_PER_VISITOR) -> None:
        self.max_active, self.max_queued = max_active, max_queued
        self._queues: OrderedDict[str, deque[str]] = OrderedDict()  # owner -> job ids; the next owner first

    def admit(self, job_id: str, owner: str | None, running: int) -> None:
        """Queue ``job_id`` at the back of its owner's line; ``running``: the owner's runs training now.

        Raises:
            VisitorLimitError: the owner already has ``max_queued`` runs waiting.
        """
        key = owner or NO_OWNER
        waiting = len(self._queues.get(key, ()))
        if key != NO_OWNER and waiting >= self.max_queued:
            raise VisitorLimitError(
                f"you already have {waiting} run{'s' if waiting != 1 else ''} waiting and {running} training: "
                f"{limit_text('MAX_QUEUED_PER_VISITOR', self.max_queued, 'runs waiting per visitor')}. "
                "Wait for one to start, or stop one, then start again.")
        self._queues.setdefault(key, deque()).append(job_id)

    def next(self, running: Callable[[str], int]) -> str | None:
        """Take the next job to start: the first owner in turn whose training runs (``running(owner)``) leave
        room, who then goes to the back of the turn. None when no queued job may start now."""
        for key in list(self._queues):
            if key != NO_OWNER and running(key) >= self.max_active:
                continue
            line = self._queues.pop(key)
            job_id = line.popleft()
            if line:
                self._queues[key] = line  # back of the turn
            return job_id
        return None

    def remove(self, job_id: str) -> bool:
        """Take a queued job out of its line (it was cancelled); False when it was not queued."""
        for key, line in self._queues.items():
            if job_id in line:
                line.remove(job_id)
                if not line:
                    del self._queues[key]
                return True
        return False

    def __contains__(self, job_id: object) -> bool:
        return any(job_id in line for line in self._queues.values())

    def __len__(self) -> int:
        return sum(len(line) for line in self._queues.values())

    def waiting(self, owner: str | None) -> int:
        """How many of ``owner``'s jobs are queued."""
        return len(self._queues.get(owner or NO_OWNER, ()))

    def position(self, job_id: str) -> int | None:
        """The job's place in the start order if nothing ended meanwhile (1 = next), or None when not queued."""
        for place, queued in enumerate(self.order(), start=1):
            if queued == job_id:
                return place
        return None

    def order(self) -> list[str]:
        """Every queued job in the order round robin would start them."""
        lines = [list(line) for line in self._queues.values()]
        return [line[rank] for rank in range(max(map(len, lines), default=0)) for line in lines if rank < len(line)]


class Heartbeats:
    """When each visitor was last seen, and which visitors have been silent longer than ``grace_s`` seconds."""

    def __init__(self, grace_s: float = limits.DISCONNECT_GRACE_S) -> None:
        self.grace_s = grace_s
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def touch(self, owner: str | None, now: float | None = None) -> None:
        """Note that ``owner``'s browser is still there (None: nothing to note)."""
        if owner:
            with self._lock:
                self._seen[owner] = time.monotonic() if now is None else now

    def forget(self, owner: str) -> None:
        with self._lock:
            self._seen.pop(owner, None)

    def unseen(self, now: float | None = None) -> list[str]:
        """The visitors last seen more than ``grace_s`` seconds before ``now``."""
        now = time.monotonic() if now is None else now
        with self._lock:
            return [owner for owner, seen in self._seen.items() if now - seen > self.grace_s]

    def reason(self) -> str:
        """Why a silent visitor's run was stopped, naming the grace and its variable."""
        return (f"stopped: the browser tab that started it was closed (no contact for more than {self.grace_s:g} s; "
                f"a closed tab's runs go on for "
                f"{limit_text('DISCONNECT_GRACE_S', self.grace_s, 'seconds')} before they are stopped)")


class Janitor:
    """A daemon thread calling ``sweep()`` every quarter of the grace (at most every 5 s), started on first need."""

    def __init__(self, sweep: Callable[[], object], grace_s: float) -> None:
        self.sweep, self.interval_s = sweep, max(0.02, min(grace_s / 4, 5.0))
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start the thread unless it runs already."""
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="mtl-janitor", daemon=True)
                self._thread.start()

    def _loop(self) -> None:
        while True:
            time.sleep(self.interval_s)  # a daemon with nothing to wait on but the clock
            try:
                self.sweep()
            except Exception:  # a bug: log it, and keep sweeping
                logger.exception("the janitor's sweep failed")
