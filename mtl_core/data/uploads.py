"""Uploaded tables: checked by the reader, then kept under the cache folder so a run can read them by path.

A file is stored under its content's hash, so the same upload twice is one file, and a config that
names it (``data.path``) stays valid while the cache is kept. The folder is kept small on a shared server:
uploads older than ``MAX_UPLOAD_AGE_H`` hours are removed, then the oldest ones until all of them fit in
``MAX_UPLOADS_MB``, never the file just uploaded (it counts as new again each time it is uploaded).
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import time
from pathlib import Path

import pandas as pd

from mtl_core.data.reader import read_table
from mtl_core.data.uci import cache_dir
from mtl_core.errors import DataError
from mtl_core.limits import MAX_UPLOAD_AGE_H, MAX_UPLOADS_MB
from mtl_core.safe_text import shorten

SUFFIXES = (".csv", ".tsv", ".txt", ".parquet")
PART = ".part"  # a file being written; one left behind by a crash is removed after an hour
STALE_PART_S = 3600


def save_upload(name: str, payload: bytes) -> tuple[Path, pd.DataFrame]:
    """Check an uploaded table (reading it raises DataError naming what is wrong) and store it.

    Returns:
        The stored file's path and the table read from it.

    >>> path, table = save_upload("tiny.csv", b"a,b\\n1,2\\n3,4\\n")
    >>> path.name.endswith("-tiny.csv"), table.shape
    (True, (2, 2))
    """
    label = shorten(Path(str(name)).name or "the uploaded file")
    suffix = Path(str(name)).suffix.lower()
    if suffix not in SUFFIXES:
        raise DataError(f"{label!r} is not a table this reader takes; upload a {', '.join(SUFFIXES)} file")
    table = read_table(payload, label)
    digest = hashlib.sha256(payload).hexdigest()[:16]
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(str(name)).name)[-80:]
    target = uploads_dir() / f"{digest}-{safe}"
    try:
        store(target, payload)
    except OSError as error:
        raise DataError(f"{label} could not be stored on the server ({shorten(error.strerror or error, 80)}); "
                        f"try again later") from None
    evict_uploads(target.parent, keep=target)
    return target, table


def uploads_dir() -> Path:
    """Where uploads are kept."""
    return cache_dir() / "uploads"


def store(target: Path, payload: bytes) -> None:
    """Write the payload whole or not at all (a run never reads half a file); an existing copy is marked new."""
    if target.exists():
        os.utime(target)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(dir=target.parent, prefix=".", suffix=PART)  # one per writer: no race
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(payload)
        os.replace(partial, target)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise


def evict_uploads(folder: Path, keep: Path | None = None, now: float | None = None) -> list[Path]:
    """Remove uploads past MAX_UPLOAD_AGE_H, then the oldest until the rest fit in MAX_UPLOADS_MB; never ``keep``.

    Returns:
        The files removed, oldest first.
    """
    now = time.time() if now is None else now
    files = sorted(stored_files(folder), key=lambda entry: entry[1])  # (path, modified, size), oldest first
    removed, total = [], sum(size for _, _, size in files)
    for path, modified, size in files:
        if path == keep:
            continue
        is_part = path.name.endswith(PART)
        too_old = now - modified > (STALE_PART_S if is_part else MAX_UPLOAD_AGE_H * 3600)
        if too_old or (total > MAX_UPLOADS_MB * 2**20 and not is_part):
            path.unlink(missing_ok=True)  # another process may have removed it first
            removed.append(path)
            total -= size
    return removed


def stored_files(folder: Path) -> list[tuple[Path, float, int]]:
    """Each file of the folder with its modification time and size; files that vanish meanwhile are skipped."""
    found = []
    for path in folder.iterdir() if folder.is_dir() else ():
        try:
            status = path.stat()
        except OSError:
            continue
        if path.is_file():
            found.append((path, status.st_mtime, status.st_size))
    return found


def upload_name(path: str | Path) -> str:
    """The name the user gave a stored upload (without the hash prefix).

    >>> upload_name("/cache/uploads/0123456789abcdef-my data.csv")
    'my data.csv'
    """
    stem = Path(path).name
    return stem.split("-", 1)[1] if re.match(r"^[0-9a-f]{16}-", stem) else stem
