"""The run store's tables and their forward migrations, one step per schema version.

The version lives in ``PRAGMA user_version``. ``MIGRATIONS[i]`` takes a database of version ``i`` to
``i + 1`` (version 0 is an empty file), so a database written by any earlier release is brought up to
``SCHEMA_VERSION`` when it is opened, inside one write transaction: two processes opening it at
once migrate it once.

Version 1 is the first layout. Version 2 adds to each run its test metrics and each task's primary
metric as JSON columns (filled in from the metrics table and the config for runs stored before), so
a page of the run list is read from the runs table alone, indexes for the list's filters, and a
label naming a run within its group (``stl``, ``equal``, ``0.5/1.5``).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Mapping
from typing import Any

VERSION_1 = """
CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    created REAL NOT NULL,
    finished REAL,
    status TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    config TEXT NOT NULL,
    dataset TEXT NOT NULL,
    tasks TEXT NOT NULL,
    architecture TEXT NOT NULL,
    strategy TEXT NOT NULL,
    epochs_planned INTEGER NOT NULL DEFAULT 0,
    epochs_run INTEGER NOT NULL DEFAULT 0,
    duration_s REAL,
    device TEXT,
    run_info TEXT NOT NULL DEFAULT '{}',
    dataset_fingerprint TEXT,
    versions TEXT NOT NULL DEFAULT '{}',
    owner TEXT,
    group_id TEXT,
    source TEXT NOT NULL DEFAULT 'cli',
    pid INTEGER,
    host TEXT,
    process_start TEXT,
    best_epoch INTEGER,
    best_value REAL,
    results TEXT
);
CREATE INDEX runs_created ON runs (created);
CREATE TABLE epochs (
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    epoch INTEGER NOT NULL,
    train_loss TEXT NOT NULL,
    val_loss TEXT NOT NULL,
    weights TEXT NOT NULL,
    metrics TEXT NOT NULL,
    extras TEXT NOT NULL,
    duration_s REAL NOT NULL,
    elapsed_s REAL NOT NULL,
    PRIMARY KEY (run_id, epoch)
) WITHOUT ROWID;
CREATE TABLE metrics (
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    split TEXT NOT NULL,
    task TEXT NOT NULL,
    metric TEXT NOT NULL,
    value REAL,
    PRIMARY KEY (run_id, split, task, metric)
) WITHOUT ROWID;
CREATE TABLE predictions (
    run_id TEXT PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
    data TEXT NOT NULL
);
CREATE TABLE artefacts (
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    path TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    PRIMARY KEY (run_id, name)
) WITHOUT ROWID;
CREATE TABLE groups (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    created REAL NOT NULL,
    finished REAL,
    status TEXT NOT NULL,
    config TEXT NOT NULL,
    summary TEXT,
    owner TEXT,
    source TEXT NOT NULL DEFAULT 'cli'
);
"""

VERSION_2 = """
ALTER TABLE runs ADD COLUMN test_metrics TEXT NOT NULL DEFAULT '{}';
ALTER TABLE runs ADD COLUMN primary_metrics TEXT NOT NULL DEFAULT '{}';
ALTER TABLE runs ADD COLUMN label TEXT;
CREATE INDEX runs_dataset ON runs (dataset, created);
CREATE INDEX runs_strategy ON runs (strategy, created);
CREATE INDEX runs_status ON runs (status, created);
CREATE INDEX runs_owner ON runs (owner, created);
CREATE INDEX runs_group ON runs (group_id, created);
CREATE INDEX groups_created ON groups (created);
"""


def create_version_1(connection: sqlite3.Connection) -> None:
    """Version 0 → 1: the first layout."""
    run_script(connection, VERSION_1)


def add_listing_columns(connection: sqlite3.Connection) -> None:
    """Version 1 → 2: test metrics and primary metrics on the run row, indexes for the list's filters."""
    run_script(connection, VERSION_2)
    tests: dict[str, dict[str, dict[str, float | None]]] = {}
    for run_id, task, metric, value in connection.execute(
            "SELECT run_id, task, metric, value FROM metrics WHERE split = 'test'"):
        tests.setdefault(run_id, {}).setdefault(task, {})[metric] = value
    for run_id, config in connection.execute("SELECT id, config FROM runs").fetchall():
        connection.execute("UPDATE runs SET test_metrics = ?, primary_metrics = ? WHERE id = ?",
                           (to_json(tests.get(run_id, {})), to_json(primary_metrics(json.loads(config))), run_id))


def run_script(connection: sqlite3.Connection, script: str) -> None:
    """Each statement of ``script`` in the caller's transaction (``executescript`` would commit it)."""
    for statement in script.split(";"):
        if statement.strip():
            connection.execute(statement)


def primary_metrics(config: Mapping[str, Any]) -> dict[str, str]:
    """Each task's primary metric, from a resolved config's dict.

    >>> primary_metrics({"tasks": [{"name": "y", "kind": "regression", "metric": "mae"}, {"name": "c", "kind": "binary"}]})
    {'y': 'mae', 'c': 'accuracy'}
    """
    return {task["name"]: task.get("metric") or ("mse" if task.get("kind") == "regression" else "accuracy")
            for task in config.get("tasks", [])}


def to_json(value: Any) -> str:
    """Compact JSON; NaN and infinities are kept (a diverged run's last losses), as Python's json reads them."""
    return json.dumps(value, separators=(",", ":"))


MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [create_version_1, add_listing_columns]
SCHEMA_VERSION = len(MIGRATIONS)


def migrate(connection: sqlite3.Connection, path: str) -> int:
    """Bring the database to ``SCHEMA_VERSION``; returns the version it had. Caller holds a write transaction."""
    from mtl_core.store.errors import StoreError

    found = int(connection.execute("PRAGMA user_version").fetchone()[0])
    if found > SCHEMA_VERSION:
        raise StoreError(f"run store {path!r} has schema version {found}, newer than this MTL Lab reads "
                         f"({SCHEMA_VERSION}); upgrade MTL Lab, or give another database with --db or MTL_DB")
    for step in MIGRATIONS[found:]:
        step(connection)
    if found != SCHEMA_VERSION:
        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    return found
