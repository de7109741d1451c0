"""Where the run store lives: one SQLite file, with each run's folder of files beside it."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

DB_FILE = "runs.sqlite"
APP_FOLDER = "mtl-lab"


def default_path() -> Path:
    """``$MTL_DB``; else ``$MTL_HOME/runs.sqlite``; else ``$XDG_DATA_HOME/mtl-lab/runs.sqlite``;
    else ``~/.local/share/mtl-lab/runs.sqlite``. Run folders go beside it (``runs_folder``)."""
    for variable, tail in (("MTL_DB", ()), ("MTL_HOME", (DB_FILE,)), ("XDG_DATA_HOME", (APP_FOLDER, DB_FILE))):
        value = os.environ.get(variable, "").strip()
        if value:
            return Path(value).expanduser().joinpath(*tail)
    return Path.home() / ".local" / "share" / APP_FOLDER / DB_FILE


def runs_folder(database: Path) -> Path:
    """The folder of run folders beside a database file: ``<db folder>/runs``."""
    return database.parent / "runs"


def dataset_fingerprint(run_folder: Path) -> str | None:
    """A SHA-256 of the data summary in a run folder's run.json (split rows, feature checksums, task scales):
    equal for two runs that trained on the same data and split. None when the folder has no readable run.json."""
    try:
        summary = json.loads((run_folder / "run.json").read_text(encoding="utf-8"))["data"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return hashlib.sha256(json.dumps(summary, sort_keys=True).encode()).hexdigest()
