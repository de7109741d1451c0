"""Files written whole: a reader (or a process killed at any moment) sees the old file or the new one, never half.

A file is written to a temporary name in its own folder, flushed to disk (``fsync``) and renamed over the
target (``os.replace``, atomic on POSIX and Windows). A run folder is built as a hidden sibling
(``.<name>.partial-<host>-<pid>``) and swapped in when it is complete: on Linux with one atomic exchange of
the two folders (``renameat2(RENAME_EXCHANGE)``), elsewhere with two renames. A write that fails (full disk,
file-size limit, no permission) removes its temporary file and raises ``WriteError``, one line naming the file.
No PyTorch here: ``store.checkpoints.save_weights`` serialises a checkpoint and writes its bytes so.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import os
import shutil
import socket
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from mtl_core.errors import MTLError, WriteError

__all__ = ["WriteError", "check_writable", "failure", "replacing", "shown_path", "staging_folder", "swap_in",
           "write_bytes", "write_text", "write_with"]
PARTIAL, OLD = ".partial-", ".old-"
_AT_FDCWD, _RENAME_EXCHANGE = -100, 2


def shown_path(path: str | Path, limit: int = 200) -> str:
    """``repr`` of a path as a message quotes it: cut to ``limit`` characters."""
    text = repr(str(path))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def failure(path: str | Path, error: OSError, doing: str = "write") -> WriteError:
    """One line: which file could not be written and the system's reason (``No space left on device``)."""
    reason = error.strerror or type(error).__name__
    return WriteError(f"cannot {doing} {shown_path(path)}: {reason}. Free space or choose another place "
                      f"(a folder you may write to).")


@contextlib.contextmanager
def replacing(path: str | Path) -> Iterator[IO[bytes]]:
    """A binary file that becomes ``path`` (flushed, fsynced, renamed over it) when the block ends without error."""
    target = Path(os.path.realpath(path))  # a symbolic link's target is written, the link kept
    if target.exists() and not target.is_file():
        raise WriteError(f"cannot write {shown_path(path)}: it is a folder or a device, not a file. "
                         f"Give a file name.")
    temporary = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(temporary, "wb") as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        if isinstance(error, MTLError):
            raise
        raise failure(target, error) from None
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    sync_folder(target.parent)


def write_bytes(path: str | Path, data: bytes | memoryview) -> None:
    """Write ``data`` to ``path`` whole (see ``replacing``)."""
    with replacing(path) as stream:
        stream.write(data)


def write_text(path: str | Path, text: str) -> None:
    """Write UTF-8 ``text`` to ``path`` whole."""
    write_bytes(path, text.encode("utf-8"))


def write_with(path: str | Path, writer: Callable[[IO[bytes]], None]) -> None:
    """Write ``path`` whole with ``writer(stream)`` (e.g. ``torch.save(state, stream)``)."""
    with replacing(path) as stream:
        writer(stream)


def sync_folder(folder: Path) -> None:
    """fsync a folder, so a rename in it survives a power cut (a no-op where folders cannot be opened)."""
    if sys.platform == "win32":
        return
    with contextlib.suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def check_writable(folder: str | Path, what: str) -> None:
    """WriteError unless a file can be created in ``folder`` (created with its parents when missing)."""
    place = Path(folder)
    probe = place / f".mtl-write-check-{os.getpid()}"
    try:
        place.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        raise WriteError(f"{what}: cannot write in {shown_path(place)}: {error.strerror or type(error).__name__}. "
                         f"Choose a folder you may write to.") from None


def staging_folder(target: Path) -> Path:
    """A new empty hidden sibling of ``target`` to build its next version in; stale ones of dead processes go."""
    remove_stale(target)
    staging = target.with_name(f".{target.name}{PARTIAL}{_host()}-{os.getpid()}")
    try:
        if staging.exists():
            shutil.rmtree(staging)
        staging.mkdir(parents=True)
    except OSError as error:
        raise failure(staging, error, "create") from None
    return staging


def remove_stale(target: Path) -> None:
    """Remove the partial and replaced folders beside ``target`` (of any name: a store's runs of other ids too) that
    processes of this host left when they were killed."""
    if not target.parent.is_dir():
        return
    for marker in (PARTIAL, OLD):
        for sibling in target.parent.glob(f".*{marker}{_host()}-*"):
            pid = sibling.name.rpartition("-")[2]
            if pid.isdigit() and not alive(int(pid)) and sibling.is_dir():
                shutil.rmtree(sibling, ignore_errors=True)


def _host() -> str:
    """This machine's name as a file name part (a folder shared between hosts is cleaned only of its own)."""
    return "".join(char if char.isalnum() else "_" for char in socket.gethostname())[:40] or "host"


def alive(pid: int) -> bool:
    """Whether a process with this id runs (on this host)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists but belongs to someone else
        return True
    return True


def swap_in(staging: Path, target: Path) -> None:
    """Make the complete folder ``staging`` be ``target``; an older ``target`` is removed once replaced."""
    try:
        if not target.exists():
            os.rename(staging, target)
        elif exchange(staging, target):
            shutil.rmtree(staging, ignore_errors=True)  # it now holds the older folder
        else:
            old = target.with_name(f".{target.name}{OLD}{_host()}-{os.getpid()}")
            os.rename(target, old)
            os.rename(staging, target)
            shutil.rmtree(old, ignore_errors=True)
    except OSError as error:
        raise failure(target, error, "replace") from None
    sync_folder(target.parent)


def exchange(first: Path, second: Path) -> bool:
    """Swap two paths in one atomic step (Linux ``renameat2``); False where the system or file system cannot."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    result = renameat2(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE)
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(second))
