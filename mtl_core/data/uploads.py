"""Uploaded tables: checked by the reader, then kept under the cache folder so a run can read them by path.

A file is stored under its content's hash, so the same upload twice is one file, and a config that
names it (``data.path``) stays valid while the cache is kept.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pandas as pd

from mtl_core.data.reader import read_table
from mtl_core.data.uci import cache_dir
from mtl_core.errors import DataError

SUFFIXES = (".csv", ".tsv", ".txt", ".parquet")


def save_upload(name: str, payload: bytes) -> tuple[Path, pd.DataFrame]:
    """Check an uploaded table (reading it raises DataError naming what is wrong) and store it.

    Returns:
        The stored file's path and the table read from it.

    >>> path, table = save_upload("tiny.csv", b"a,b\\n1,2\\n3,4\\n")
    >>> path.name.endswith("-tiny.csv"), table.shape
    (True, (2, 2))
    """
    suffix = Path(name).suffix.lower()
    if suffix not in SUFFIXES:
        raise DataError(f"{name!r} is not a table this reader takes; upload a {', '.join(SUFFIXES)} file")
    table = read_table(payload, name)
    digest = hashlib.sha256(payload).hexdigest()[:16]
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(name).name)[-80:]
    target = cache_dir() / "uploads" / f"{digest}-{safe}"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(target.suffix + ".part")
        partial.write_bytes(payload)
        partial.replace(target)  # whole or absent: a run never reads half a file
    return target, table


def upload_name(path: str | Path) -> str:
    """The name the user gave a stored upload (without the hash prefix).

    >>> upload_name("/cache/uploads/0123456789abcdef-my data.csv")
    'my data.csv'
    """
    stem = Path(path).name
    return stem.split("-", 1)[1] if re.match(r"^[0-9a-f]{16}-", stem) else stem
