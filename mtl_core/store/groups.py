"""Comparisons and Pareto sweeps in the run store: a group row with the summary, its runs pointing at it."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from mtl_core.results import RunResults
from mtl_core.store.errors import UnknownRunError
from mtl_core.store.records import SUMMARY_COLUMNS, GroupKind, GroupSummary, StoredGroup, summary_from_row
from mtl_core.store.schema import to_json

if TYPE_CHECKING:
    from mtl_core.config import ExperimentConfig
    from mtl_core.store.database import Database

GROUP_COLUMNS = ("g.id, g.kind, g.created, g.finished, g.status, g.owner, g.source, "
                 "(SELECT count(*) FROM runs r WHERE r.group_id = g.id)")


class GroupsMixin:
    """The group methods of RunStore (which provides ``db``)."""

    db: Database

    def store_results(self, results: RunResults, *, owner: str | None = None, group_id: str | None = None,
                      source: str = "cli", label: str | None = None) -> str:
        raise NotImplementedError  # RunStore's

    def start_group(self, kind: GroupKind, config: ExperimentConfig | Mapping[str, Any], *,
                    owner: str | None = None, source: str = "cli") -> str:
        """Write a new group (status ``running``); its runs name it with ``group_id``. Returns its id."""
        from mtl_core.store.runs import new_id

        if kind not in ("compare", "pareto", "study", "sweep"):
            raise ValueError(f"group kind {kind!r}: use 'compare', 'pareto', 'study' or 'sweep'")
        values = config.to_dict() if hasattr(config, "to_dict") else dict(config)
        group_id = new_id()
        self.db.write(lambda c: c.execute(
            "INSERT INTO groups (id, kind, created, status, config, owner, source) VALUES (?, ?, ?, 'running', ?, ?, ?)",
            (group_id, kind, time.time(), to_json(values), owner, source)))
        return group_id

    def finish_group(self, group_id: str, summary: Mapping[str, Any], status: str | None = None) -> None:
        """Write the group's summary (compare's or pareto's JSON) and its final status (the summary's by default)."""
        final = status or str(summary.get("status", "completed"))
        self.db.write(lambda c: _update_group(c, group_id, final, to_json(dict(summary))))

    def group_recorder(self, group_id: str, *, owner: str | None = None,
                       source: str | None = None) -> Callable[[str, RunResults], None]:
        """``on_run(method, results)`` for compare, pareto and study: stores each run in the group, labelled."""
        def record(method: str, results: RunResults) -> None:
            self.store_results(results, owner=owner, group_id=group_id, source=source or "compare", label=method)
        return record

    def fail_group(self, group_id: str, message: str) -> None:
        """Mark a group whose work raised as ``failed``."""
        self.db.write(lambda c: _update_group(c, group_id, "failed", to_json({"error": message})))

    def list_groups(self, *, kind: GroupKind | None = None, owner: str | None = None, limit: int = 50,
                    offset: int = 0) -> list[GroupSummary]:
        """One page of groups, newest first."""
        clauses = [clause for clause, value in (("g.kind = ?", kind), ("g.owner = ?", owner)) if value is not None]
        where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
        rows = self.db.read(f"SELECT {GROUP_COLUMNS} FROM groups g {where} ORDER BY g.created DESC LIMIT ? OFFSET ?",
                            [value for value in (kind, owner) if value is not None] + [limit, offset])
        return [GroupSummary(*row) for row in rows]

    def get_group(self, group_id: str) -> StoredGroup | None:
        """The group, its summary and its runs (oldest first), or None."""
        def read(connection: sqlite3.Connection) -> StoredGroup | None:
            row = connection.execute(f"SELECT {GROUP_COLUMNS}, g.config, g.summary FROM groups g WHERE g.id = ?",
                                     (group_id,)).fetchone()
            if row is None:
                return None
            runs = connection.execute(f"SELECT {SUMMARY_COLUMNS} FROM runs WHERE group_id = ? ORDER BY created, id",
                                      (group_id,)).fetchall()
            return StoredGroup(GroupSummary(*row[:8]), json.loads(row[8]), json.loads(row[9]) if row[9] else None,
                               tuple(summary_from_row(run) for run in runs))
        return self.db.read_many(read)


def _update_group(connection: sqlite3.Connection, group_id: str, status: str, summary: str) -> None:
    updated = connection.execute("UPDATE groups SET status = ?, summary = ?, finished = ? WHERE id = ?",
                                 (status, summary, time.time(), group_id)).rowcount
    if not updated:
        raise UnknownRunError(f"no stored group with id {group_id!r}")
