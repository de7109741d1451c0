"""``RunStore``: every run, from the CLI and the dashboard alike, written as it trains and read back by id.

The run row is written when the run starts (status ``running``), each epoch's row the moment the epoch
ends, and the final metrics, predictions and results when it finishes; each write is its own committed
transaction, so a crash keeps the history up to the last epoch. ``mark_interrupted`` turns the runs
of dead processes into ``interrupted`` runs. Nothing here loads PyTorch: listing runs is plain SQLite.
"""

from __future__ import annotations

import json
import secrets
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mtl_core.results import RunResults
from mtl_core.store.database import Database
from mtl_core.store.errors import UnknownRunError
from mtl_core.store.groups import GroupsMixin
from mtl_core.store.paths import default_path, runs_folder
from mtl_core.store.processes import ProcessId, is_alive, this_process
from mtl_core.store.records import (
    HISTORY_COLUMNS,
    N_SUMMARY_COLUMNS,
    SUMMARY_COLUMNS,
    RunSummary,
    StoredRun,
    history_entry,
    nested_metrics,
    summary_from_row,
)
from mtl_core.store.schema import primary_metrics, to_json
from mtl_core.store.versions import package_versions

if TYPE_CHECKING:
    from mtl_core.config import ExperimentConfig
    from mtl_core.train.events import Event

FINISHED_KEYS_LEFT_OUT = ("history", "predictions")  # stored in their own tables
SEARCHED = ("id", "dataset", "strategy", "architecture", "reason")  # the columns list_runs(search=...) looks in


def new_id() -> str:
    """An unguessable run id: 16 URL-safe characters (96 random bits), fit for a share link; it starts with a letter
    or digit, so a command line never reads it as an option."""
    while True:
        token = secrets.token_urlsafe(12)
        if token[0].isalnum():
            return token


class RunStore(GroupsMixin):
    """The run store: one SQLite database (``default_path()`` unless ``path`` is given) and the run folders beside it.

    Safe to share between threads; several processes may write the same file at once.
    """

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path).expanduser() if path is not None else default_path()
        self.db = Database(self.path)

    def close(self) -> None:
        """Close the database connection."""
        self.db.close()

    def run_dir(self, run_id: str) -> Path:
        """The run's folder of files (``<db folder>/runs/<id>/``); not created here."""
        return runs_folder(self.path) / run_id

    # -- writing a run as it goes -------------------------------------------------------------------------------

    def start_run(self, config: ExperimentConfig | Mapping[str, Any], *, owner: str | None = None,
                  group_id: str | None = None, source: str = "cli", dataset_fingerprint: str | None = None,
                  label: str | None = None, created: float | None = None) -> str:
        """Write a new run's row (status ``running``, this process as its writer); returns its id."""
        values = config.to_dict() if hasattr(config, "to_dict") else dict(config)
        row = _run_row(values, owner=owner, group_id=group_id, source=source, dataset_fingerprint=dataset_fingerprint,
                       label=label, created=created)
        self.db.write(lambda c: _insert_run(c, row))
        return str(row["id"])

    def recorder(self, run_id: str) -> Callable[[Event], None]:
        """An event handler that stores the run as it trains: sizes and device, each epoch at once, how it ended."""
        def record(event: Event) -> None:
            values = event.to_dict()
            kind = values.pop("type")
            if kind == "run_started":
                self._started(run_id, values)
            elif kind == "epoch_ended":
                self.db.write(lambda c: _insert_epoch(c, run_id, values))
            elif kind == "run_ended":
                self._ended(run_id, values)
        return record

    def _started(self, run_id: str, values: dict[str, Any]) -> None:
        self.db.write(lambda c: c.execute(
            "UPDATE runs SET device = ?, run_info = ?, epochs_planned = ? WHERE id = ?",
            (values.get("device"), to_json(values), values.get("epochs", 0), run_id)))

    def _ended(self, run_id: str, values: dict[str, Any]) -> None:
        def write(connection: sqlite3.Connection) -> None:
            connection.execute(
                "UPDATE runs SET status = ?, reason = ?, epochs_run = ?, duration_s = ?, finished = ? WHERE id = ?",
                (values["status"], values["reason"], values["epochs_run"], values["duration_s"], time.time(), run_id))
            _write_metrics(connection, run_id, values.get("metrics") or {})
            connection.execute("INSERT OR REPLACE INTO predictions (run_id, data) VALUES (?, ?)",
                               (run_id, to_json(values.get("predictions") or {})))
        self.db.write(write)

    def finish(self, run_id: str, results: RunResults | Mapping[str, Any], *,
               dataset_fingerprint: str | None = None) -> None:
        """Write the run's final results: status, metrics, predictions, selected epoch, RESULTS.json, and any
        history rows not yet written (a run stored after the fact)."""
        values = results.to_dict() if isinstance(results, RunResults) else dict(results)
        self.db.write(lambda c: _write_finished(c, run_id, values, dataset_fingerprint, time.time()))

    def store_results(self, results: RunResults, *, owner: str | None = None, group_id: str | None = None,
                      source: str = "cli", label: str | None = None) -> str:
        """Store a run that trained without a recorder (a comparison's runs trained together); returns its id."""
        return self.store_many([(results, {"owner": owner, "group_id": group_id, "source": source,
                                           "label": label})])[0]

    def store_many(self, runs: Iterable[tuple[RunResults | Mapping[str, Any], Mapping[str, Any]]]) -> list[str]:
        """Store finished runs in one transaction: each ``(results, start_run's keyword arguments)``; their ids.

        A run given ``created`` is marked finished ``duration_s`` later (imports, benchmarks); else now.
        """
        def write(connection: sqlite3.Connection) -> list[str]:
            ids = []
            for results, start in runs:
                values = results.to_dict() if isinstance(results, RunResults) else dict(results)
                row = _run_row(values["config"], **start)
                _insert_run(connection, row)
                finished = time.time() if start.get("created") is None else float(row["created"]) + values["duration_s"]
                _write_finished(connection, str(row["id"]), values, start.get("dataset_fingerprint"), finished)
                ids.append(str(row["id"]))
            return ids
        return self.db.write(write)

    def fail(self, run_id: str, message: str, *, status: str = "failed") -> None:
        """Mark a run that raised as ``failed`` (or one cancelled before it began as ``stopped``), with the message
        as its reason."""
        self.db.write(lambda c: c.execute(
            "UPDATE runs SET status = ?, reason = ?, finished = ?, "
            "epochs_run = (SELECT count(*) FROM epochs WHERE run_id = ?) WHERE id = ?",
            (status, message, time.time(), run_id, run_id)))

    def add_artefacts(self, run_id: str) -> dict[str, str]:
        """Record the files in the run's folder (weights, train.log, results.json); returns name -> path."""
        folder = self.run_dir(run_id)
        files = sorted(path for path in folder.rglob("*") if path.is_file()) if folder.is_dir() else []
        rows = [(run_id, path.relative_to(folder).as_posix(), str(path), path.stat().st_size) for path in files]
        self.db.write(lambda c: c.executemany("INSERT OR REPLACE INTO artefacts VALUES (?, ?, ?, ?)", rows))
        return {name: path for _, name, path, _ in rows}

    def mark_interrupted(self) -> int:
        """Mark ``interrupted`` every running run whose process has died; returns how many were marked."""
        rows = self.db.read("SELECT id, pid, host, process_start FROM runs WHERE status = 'running'")
        dead = [(run_id, pid, host) for run_id, pid, host, start in rows
                if pid is not None and is_alive(ProcessId(pid, host or "", start)) is False]
        def write(connection: sqlite3.Connection) -> None:
            for run_id, pid, host in dead:
                _interrupt(connection, run_id, pid, host)
        if dead:
            self.db.write(write)
        return len(dead)

    # -- reading ----------------------------------------------------------------------------------------------

    def list_runs(self, *, dataset: str | None = None, strategy: str | None = None, status: str | None = None,
                  architecture: str | None = None, owner: str | None = None, group_id: str | None = None,
                  search: str | None = None, limit: int = 50, offset: int = 0,
                  visible_to: str | None = None) -> list[RunSummary]:
        """One page of runs matching every filter given, newest first.

        ``visible_to``: only the runs of that owner and the runs of no owner (the command line's, the examples'),
        what a visitor of a shared dashboard may list."""
        where, parameters = _filters(dataset, strategy, status, architecture, owner, group_id, search, visible_to)
        rows = self.db.read(f"SELECT {SUMMARY_COLUMNS} FROM runs {where} ORDER BY created DESC, id DESC "
                            f"LIMIT ? OFFSET ?", [*parameters, max(int(limit), 0), max(int(offset), 0)])
        return [summary_from_row(row) for row in rows]

    def count_runs(self, *, dataset: str | None = None, strategy: str | None = None, status: str | None = None,
                   architecture: str | None = None, owner: str | None = None, group_id: str | None = None,
                   search: str | None = None, visible_to: str | None = None) -> int:
        """How many runs match every filter given (``list_runs``'s total, for its pages)."""
        where, parameters = _filters(dataset, strategy, status, architecture, owner, group_id, search, visible_to)
        return int(self.db.read(f"SELECT count(*) FROM runs {where}", parameters)[0][0])

    def summary(self, run_id: str) -> RunSummary | None:
        """The run's line of the list, or None."""
        rows = self.db.read(f"SELECT {SUMMARY_COLUMNS} FROM runs WHERE id = ?", [run_id])
        return summary_from_row(rows[0]) if rows else None

    def get(self, run_id: str) -> StoredRun | None:
        """The whole run (None for an unknown id): config, history so far, metrics, predictions, results."""
        return self.db.read_many(lambda c: _read_run(c, run_id))

    def require(self, run_id: str) -> StoredRun:
        """``get`` for an id that must exist: UnknownRunError naming it otherwise."""
        run = self.get(run_id)
        if run is None:
            raise UnknownRunError(f"no stored run with id {run_id!r} in {self.path}; "
                                  f"python -m mtl_core runs list shows the stored runs")
        return run

    def history(self, run_id: str, start_epoch: int = 0) -> list[dict[str, Any]]:
        """The run's epochs written so far (after ``start_epoch``), as RESULTS.json's history entries."""
        rows = self.db.read(f"SELECT {HISTORY_COLUMNS} FROM epochs WHERE run_id = ? AND epoch > ? ORDER BY epoch",
                            [run_id, start_epoch])
        return [history_entry(row) for row in rows]

    def delete(self, run_id: str) -> bool:
        """Delete a run's rows and its folder; False when no run has this id."""
        def write(connection: sqlite3.Connection) -> bool:
            for table in ("epochs", "metrics", "predictions", "artefacts"):
                connection.execute(f"DELETE FROM {table} WHERE run_id = ?", (run_id,))
            return connection.execute("DELETE FROM runs WHERE id = ?", (run_id,)).rowcount > 0
        deleted = self.db.write(write)
        shutil.rmtree(self.run_dir(run_id), ignore_errors=True)
        return deleted

    def export(self, run_id: str, fmt: str, out: str | Path) -> Path:
        """Write the run for use elsewhere: ``json`` one file, ``csv`` a folder of tables (see ``store.export``)."""
        from mtl_core.store.export import export_run

        return export_run(self.require(run_id), fmt, Path(out))


def _run_row(values: Mapping[str, Any], *, owner: str | None = None, group_id: str | None = None,
             source: str = "cli", dataset_fingerprint: str | None = None, label: str | None = None,
             created: float | None = None) -> dict[str, Any]:
    """A new run's row: status ``running``, written by this process."""
    process, data = this_process(), values.get("data", {})
    return {
        "id": new_id(), "created": time.time() if created is None else created, "status": "running",
        "config": to_json(values), "dataset": data.get("path") or data.get("dataset") or "diabetes",
        "tasks": to_json([task["name"] for task in values.get("tasks", [])]),
        "architecture": values.get("model", {}).get("architecture", ""),
        "strategy": values.get("strategy", {}).get("name", ""),
        "epochs_planned": values.get("train", {}).get("epochs", 0), "dataset_fingerprint": dataset_fingerprint,
        "versions": to_json(package_versions()), "owner": owner, "group_id": group_id, "source": source,
        "pid": process.pid, "host": process.host, "process_start": process.start,
        "primary_metrics": to_json(primary_metrics(values)), "label": label,
    }


def _insert_run(connection: sqlite3.Connection, row: Mapping[str, Any]) -> None:
    connection.execute(f"INSERT INTO runs ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                       tuple(row.values()))


def _write_finished(connection: sqlite3.Connection, run_id: str, values: Mapping[str, Any],
                    dataset_fingerprint: str | None, finished: float) -> None:
    """Final status, metrics, predictions, selected epoch and RESULTS.json; history rows not yet written."""
    _require(connection, run_id)
    for entry in values.get("history", []):
        _insert_epoch(connection, run_id, entry, replace=False)
    _write_metrics(connection, run_id, values.get("metrics") or {})
    connection.execute("INSERT OR REPLACE INTO predictions (run_id, data) VALUES (?, ?)",
                       (run_id, to_json(values.get("predictions") or {})))
    run = values.get("run") or {}
    kept = {key: value for key, value in values.items() if key not in FINISHED_KEYS_LEFT_OUT}
    connection.execute(
        "UPDATE runs SET status = ?, reason = ?, epochs_run = ?, duration_s = ?, finished = ?, best_epoch = ?,"
        " best_value = ?, results = ?, device = coalesce(?, device), run_info = CASE WHEN ? = '{}' THEN "
        "run_info ELSE ? END, dataset_fingerprint = coalesce(?, dataset_fingerprint) WHERE id = ?",
        (values["status"], values.get("reason", ""), values.get("epochs_run", len(values["history"])),
         values["duration_s"], finished, values.get("best_epoch"), values.get("best_value"), to_json(kept),
         run.get("device"), to_json(run), to_json(run), dataset_fingerprint, run_id))


def _insert_epoch(connection: sqlite3.Connection, run_id: str, entry: Mapping[str, Any], replace: bool = True) -> None:
    """Insert one history entry and count it on the run row."""
    verb = "INSERT OR REPLACE" if replace else "INSERT OR IGNORE"
    connection.execute(
        f"{verb} INTO epochs (run_id, epoch, train_loss, val_loss, weights, metrics, extras, duration_s, elapsed_s)"
        f" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (run_id, entry["epoch"], to_json(entry["train_loss"]), to_json(entry.get("val_loss", {})),
         to_json(entry.get("weights", {})), to_json(entry.get("metrics", {})), to_json(entry.get("extras", {})),
         entry.get("duration_s", 0.0), entry.get("elapsed_s", 0.0)))
    connection.execute("UPDATE runs SET epochs_run = max(epochs_run, ?) WHERE id = ?", (entry["epoch"], run_id))


def _write_metrics(connection: sqlite3.Connection, run_id: str, metrics: Mapping[str, Any]) -> None:
    """Replace the run's final metrics rows and the test metrics on its row."""
    connection.execute("DELETE FROM metrics WHERE run_id = ?", (run_id,))
    rows = [(run_id, split, task, metric, value) for split, tasks in metrics.items()
            for task, values in tasks.items() for metric, value in values.items()]
    connection.executemany("INSERT INTO metrics VALUES (?, ?, ?, ?, ?)", rows)
    connection.execute("UPDATE runs SET test_metrics = ? WHERE id = ?", (to_json(metrics.get("test", {})), run_id))


def _require(connection: sqlite3.Connection, run_id: str) -> None:
    if connection.execute("SELECT 1 FROM runs WHERE id = ?", (run_id,)).fetchone() is None:
        raise UnknownRunError(f"no stored run with id {run_id!r}; python -m mtl_core runs list shows the stored runs")


def _interrupt(connection: sqlite3.Connection, run_id: str, pid: int, host: str | None) -> None:
    """Mark one dead process's run interrupted, with the epochs it wrote and their time."""
    epochs, elapsed = connection.execute(
        "SELECT count(*), max(elapsed_s) FROM epochs WHERE run_id = ?", (run_id,)).fetchone()
    reason = (f"the process that trained it (pid {pid} on {host}) stopped after {epochs} "
              f"epoch{'s' if epochs != 1 else ''} without finishing the run")
    connection.execute(
        "UPDATE runs SET status = 'interrupted', reason = ?, epochs_run = ?, duration_s = ?, finished = ? "
        "WHERE id = ? AND status = 'running'", (reason, epochs, elapsed, time.time(), run_id))


def _filters(dataset: str | None, strategy: str | None, status: str | None, architecture: str | None,
             owner: str | None, group_id: str | None, search: str | None,
             visible_to: str | None = None) -> tuple[str, list[Any]]:
    """The WHERE clause and its parameters for the list's filters (each one given must hold)."""
    clauses, parameters = [], []
    if visible_to is not None:
        clauses.append("(owner = ? OR owner IS NULL)")
        parameters.append(visible_to)
    for column, value in (("dataset", dataset), ("strategy", strategy), ("status", status),
                          ("architecture", architecture), ("owner", owner), ("group_id", group_id)):
        if value is not None:
            clauses.append(f"{column} = ?")
            parameters.append(value)
    if search:
        clauses.append("(" + " OR ".join(f"{column} LIKE ?" for column in SEARCHED) + ")")
        parameters.extend([f"%{search}%"] * len(SEARCHED))
    return ("WHERE " + " AND ".join(clauses)) if clauses else "", parameters


def _read_run(connection: sqlite3.Connection, run_id: str) -> StoredRun | None:
    row = connection.execute(f"SELECT {SUMMARY_COLUMNS}, config, run_info, versions, dataset_fingerprint, "
                             f"best_epoch, best_value, results FROM runs WHERE id = ?", (run_id,)).fetchone()
    if row is None:
        return None
    summary = summary_from_row(row[:N_SUMMARY_COLUMNS])
    config, run_info, versions, fingerprint, best_epoch, best_value, results = row[N_SUMMARY_COLUMNS:]
    history = [history_entry(entry) for entry in connection.execute(
        f"SELECT {HISTORY_COLUMNS} FROM epochs WHERE run_id = ? ORDER BY epoch", (run_id,))]
    stored = json.loads(results) if results else None
    metrics = stored["metrics"] if stored else nested_metrics(connection.execute(
        "SELECT split, task, metric, value FROM metrics WHERE run_id = ?", (run_id,)).fetchall())
    predictions = connection.execute("SELECT data FROM predictions WHERE run_id = ?", (run_id,)).fetchone()
    artefacts = dict(connection.execute("SELECT name, path FROM artefacts WHERE run_id = ?", (run_id,)).fetchall())
    return StoredRun(summary, json.loads(config), history, metrics, json.loads(predictions[0]) if predictions else {},
                     best_epoch, best_value, json.loads(run_info), json.loads(versions), fingerprint, artefacts,
                     stored)
