"""Which process wrote a run, and whether it is still alive: how a run left ``running`` by a crash is found."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class ProcessId:
    """A process as the store records it: pid, host name and the process's start time (where the OS tells it).

    The start time tells a live process from a later one that was given the same pid.
    """

    pid: int
    host: str
    start: str | None


def this_process() -> ProcessId:
    """The calling process."""
    return ProcessId(os.getpid(), socket.gethostname(), start_time(os.getpid()))


def start_time(pid: int) -> str | None:
    """The start time of ``pid`` in clock ticks since boot (Linux ``/proc``), or None where it cannot be read."""
    fields = _stat_fields(pid)
    return fields[19] if fields is not None and len(fields) > 19 else None


def _stat_fields(pid: int) -> list[str] | None:
    """``/proc/<pid>/stat`` after the command name (field 3 onwards), or None."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    return text[text.rfind(")") + 2:].split()


def is_alive(process: ProcessId) -> bool | None:
    """Whether the process still runs; None when it ran on another host (this one cannot tell)."""
    if process.host != socket.gethostname():
        return None
    try:
        os.kill(process.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process holds the pid
        pass
    except OSError:
        return False
    fields = _stat_fields(process.pid)
    if fields is not None and fields[0] in ("Z", "X"):  # ended, not yet reaped by its parent
        return False
    return process.start is None or fields is None or start_time(process.pid) == process.start
