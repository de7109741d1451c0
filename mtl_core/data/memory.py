"""Handing freed memory back to the system while a large table is read and turned into tensors.

glibc keeps the memory of freed arrays in its heap for reuse, and after the first large array is freed it serves
arrays of up to that size from the heap too (its mmap threshold rises). Reading a million-row table in pieces and
joining them column by column would then hold the freed pieces beside the joined columns: the process's memory is
the sum of both, though only the columns are alive. ``release_freed`` asks the C library to return the free parts
of its heaps (``malloc_trim``); elsewhere (macOS, musl) it does nothing.
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Callable
from functools import cache

RELEASE_BYTES = 4 * 2**20  # below this much freed, a trim is not worth its cost (it walks the heap)


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, when this process runs on it."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        trim = ctypes.CDLL(None).malloc_trim  # the C library the interpreter itself is linked with
    except (OSError, AttributeError):  # musl has no malloc_trim
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim  # type: ignore[no-any-return]


def release_freed(freed_bytes: int = RELEASE_BYTES) -> bool:
    """Return the heap's free memory to the system after ``freed_bytes`` were freed; True when it was asked."""
    trim = _malloc_trim()
    if trim is None or freed_bytes < RELEASE_BYTES:
        return False
    trim(0)
    return True
