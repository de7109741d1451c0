"""A database of the previous schema version is migrated on open without loss; others are refused clearly."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from mtl_core.store import SCHEMA_VERSION, RunStore, StoreError

# The first layout, as version 1 of MTL Lab wrote it (kept here verbatim: the test must not follow later edits).
VERSION_1 = """
CREATE TABLE runs (id TEXT PRIMARY KEY, created REAL NOT NULL, finished REAL, status TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '', config TEXT NOT NULL, dataset TEXT NOT NULL, tasks TEXT NOT NULL,
    architecture TEXT NOT NULL, strategy TEXT NOT NULL, epochs_planned INTEGER NOT NULL DEFAULT 0,
    epochs_run INTEGER NOT NULL DEFAULT 0, duration_s REAL, device TEXT, run_info TEXT NOT NULL DEFAULT '{}',
    dataset_fingerprint TEXT, versions TEXT NOT NULL DEFAULT '{}', owner TEXT, group_id TEXT,
    source TEXT NOT NULL DEFAULT 'cli', pid INTEGER, host TEXT, process_start TEXT, best_epoch INTEGER,
    best_value REAL, results TEXT);
CREATE INDEX runs_created ON runs (created);
CREATE TABLE epochs (run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE, epoch INTEGER NOT NULL,
    train_loss TEXT NOT NULL, val_loss TEXT NOT NULL, weights TEXT NOT NULL, metrics TEXT NOT NULL,
    extras TEXT NOT NULL, duration_s REAL NOT NULL, elapsed_s REAL NOT NULL, PRIMARY KEY (run_id, epoch)) WITHOUT ROWID;
CREATE TABLE metrics (run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE, split TEXT NOT NULL,
    task TEXT NOT NULL, metric TEXT NOT NULL, value REAL, PRIMARY KEY (run_id, split, task, metric)) WITHOUT ROWID;
CREATE TABLE predictions (run_id TEXT PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE, data TEXT NOT NULL);
CREATE TABLE artefacts (run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE, name TEXT NOT NULL,
    path TEXT NOT NULL, bytes INTEGER NOT NULL, PRIMARY KEY (run_id, name)) WITHOUT ROWID;
CREATE TABLE groups (id TEXT PRIMARY KEY, kind TEXT NOT NULL, created REAL NOT NULL, finished REAL,
    status TEXT NOT NULL, config TEXT NOT NULL, summary TEXT, owner TEXT, source TEXT NOT NULL DEFAULT 'cli');
PRAGMA user_version = 1;
"""
CONFIG = {"data": {"dataset": "diabetes"}, "model": {"architecture": "mmoe"}, "strategy": {"name": "pcgrad"},
          "train": {"epochs": 2}, "tasks": [{"name": "y", "kind": "regression", "metric": "mae"},
                                            {"name": "c", "kind": "binary", "metric": "auc"}]}
EPOCH = {"train_loss": {"y": 0.5, "c": 0.25}, "val_loss": {"y": 0.75, "c": 0.5}, "weights": {"y": 1.0, "c": 1.0},
         "metrics": {"y": {"mae": 0.125}, "c": {"auc": 0.875}}, "extras": {}}
METRICS = [("val", "y", "mae", 0.2), ("test", "y", "mae", 0.3), ("test", "c", "auc", 0.9), ("test", "c", "f1", None)]


def version_1_database(path: Path) -> None:
    """A version-1 file holding one finished run (two epochs, metrics, predictions, a file) and its group."""
    connection = sqlite3.connect(path)
    connection.executescript(VERSION_1)
    connection.execute("INSERT INTO groups VALUES ('g1', 'compare', 1.0, 2.0, 'completed', ?, '{\"seeds\": [0]}',"
                       " 'sess', 'cli')", (json.dumps(CONFIG),))
    connection.execute(
        "INSERT INTO runs (id, created, finished, status, reason, config, dataset, tasks, architecture, strategy,"
        " epochs_planned, epochs_run, duration_s, device, owner, group_id, source, best_epoch, best_value, results)"
        " VALUES ('r1', 1.5, 1.75, 'completed', '', ?, 'diabetes', '[\"y\", \"c\"]', 'mmoe', 'pcgrad', 2, 2, 0.25,"
        " 'cpu', 'sess', 'g1', 'compare', NULL, NULL, ?)",
        (json.dumps(CONFIG), json.dumps({"status": "completed", "metrics": {"test": {"y": {"mae": 0.3}}}})))
    for epoch in (1, 2):
        connection.execute("INSERT INTO epochs VALUES ('r1', ?, ?, ?, ?, ?, ?, 0.1, ?)",
                           (epoch, *(json.dumps(EPOCH[key]) for key in ("train_loss", "val_loss", "weights",
                                                                        "metrics", "extras")), 0.1 * epoch))
    connection.executemany("INSERT INTO metrics VALUES ('r1', ?, ?, ?, ?)", METRICS)
    connection.execute("INSERT INTO predictions VALUES ('r1', '{\"y\": {\"row\": [4], \"true\": [1.0], "
                       "\"pred\": [0.5]}}')")
    connection.execute("INSERT INTO artefacts VALUES ('r1', 'train.log', '/x/train.log', 12)")
    connection.commit()
    connection.close()


def test_a_version_1_database_is_migrated_on_open_without_loss(tmp_path: Path) -> None:
    path = tmp_path / "runs.sqlite"
    version_1_database(path)
    store = RunStore(path)
    assert store.db.migrated_from == 1
    assert store.db.read("PRAGMA user_version")[0][0] == SCHEMA_VERSION == 2
    run = store.get("r1")
    assert run is not None and run.config == CONFIG and run.status == "completed"
    assert run.history == [{"epoch": epoch, **{key: EPOCH[key] for key in ("train_loss", "val_loss", "weights",
                                                                            "metrics")},
                            "duration_s": 0.1, "elapsed_s": 0.1 * epoch, "extras": {}} for epoch in (1, 2)]
    assert run.predictions == {"y": {"row": [4], "true": [1.0], "pred": [0.5]}}
    assert run.artefacts == {"train.log": "/x/train.log"}
    summary = store.list_runs(owner="sess")[0]
    assert summary.metrics == {"y": {"mae": 0.3}, "c": {"auc": 0.9, "f1": None}}  # filled in from the metrics rows
    assert summary.primary == {"y": "mae", "c": "auc"} and summary.key_metric == ("y", "mae", 0.3)
    group = store.get_group("g1")
    assert group is not None and group.result == {"seeds": [0]} and [r.id for r in group.runs] == ["r1"]
    new = store.start_run(CONFIG, label="stl")
    assert store.count_runs(strategy="pcgrad") == 2 and store.summary(new).label == "stl"  # type: ignore[union-attr]


def test_opening_a_migrated_database_again_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "runs.sqlite"
    version_1_database(path)
    first = RunStore(path).get("r1")
    again = RunStore(path)
    assert again.db.migrated_from == SCHEMA_VERSION and again.get("r1") == first


def test_a_database_from_a_newer_release_is_refused_naming_the_versions(tmp_path: Path) -> None:
    path = tmp_path / "runs.sqlite"
    connection = sqlite3.connect(path)
    connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    connection.close()
    with pytest.raises(StoreError, match=f"schema version {SCHEMA_VERSION + 1}, newer"):
        RunStore(path)


def test_a_file_that_is_not_a_database_is_refused_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("not a database, just some text that is long enough to hold a header" * 20, encoding="utf-8")
    with pytest.raises(StoreError, match="notes.txt"):
        RunStore(path)
