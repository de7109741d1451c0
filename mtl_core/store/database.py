"""One SQLite connection shared by a process's threads: WAL, a busy timeout, writes retried while locked.

SQLite lets one writer at a time into a database file; WAL lets readers go on meanwhile. Writers from
other processes wait (``busy_timeout``), and every write transaction begins ``IMMEDIATE``, taking the
write lock first, so two writers never deadlock on upgrading a read lock. Should a "database is
locked" still come back (a writer holding on past the timeout), the transaction is retried, with
growing pauses, for up to ``LOCKED_FOR_S`` seconds before a StoreError names the file.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from mtl_core.store.errors import StoreError
from mtl_core.store.schema import SCHEMA_VERSION, migrate

T = TypeVar("T")
BUSY_TIMEOUT_MS = 10_000
LOCKED_FOR_S = 300.0


class Database:
    """A database file opened for the store: created and migrated when needed; safe to share across threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                                               check_same_thread=False)
        except (OSError, sqlite3.Error) as error:
            raise StoreError(f"run store {str(path)!r} cannot be opened ({error}); give a writable file with "
                             f"--db PATH or MTL_DB, or set MTL_HOME to a writable folder") from None
        self._lock = threading.RLock()  # one statement at a time on the shared connection
        self._retry(self._configure)
        self.migrated_from = int(self.read("PRAGMA user_version")[0][0])
        if self.migrated_from != SCHEMA_VERSION:  # checked again under the write lock: another process may be first
            self.migrated_from = self.write(lambda connection: migrate(connection, str(path)))

    def _configure(self) -> None:
        self._connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        self._connection.execute("PRAGMA journal_mode = WAL")
        self._connection.execute("PRAGMA synchronous = NORMAL")  # a commit survives a crash of the process
        self._connection.execute("PRAGMA foreign_keys = ON")

    def write(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``work(connection)`` in one write transaction, committed on return, rolled back on error."""
        def transaction() -> T:
            self._connection.execute("BEGIN IMMEDIATE")
            try:
                result = work(self._connection)
                self._connection.execute("COMMIT")
            except BaseException:
                if self._connection.in_transaction:  # SQLite may have rolled back already (a full disk)
                    self._connection.execute("ROLLBACK")
                raise
            return result
        return self._retry(transaction)

    def read(self, sql: str, parameters: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """The rows of one query."""
        return self._retry(lambda: self._connection.execute(sql, parameters).fetchall())

    def read_many(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run several queries on one snapshot of the database (a read transaction)."""
        def transaction() -> T:
            self._connection.execute("BEGIN")
            try:
                return work(self._connection)
            finally:
                if self._connection.in_transaction:
                    self._connection.execute("COMMIT")
        return self._retry(transaction)

    def close(self) -> None:
        """Close the connection (later calls fail)."""
        with self._lock:
            self._connection.close()

    def _retry(self, attempt: Callable[[], T]) -> T:
        """Call ``attempt`` under the lock until it gets past a locked database, or ``LOCKED_FOR_S`` pass."""
        deadline, pause = time.monotonic() + LOCKED_FOR_S, 0.01
        while True:
            with self._lock:
                try:
                    return attempt()
                except sqlite3.OperationalError as error:
                    if not _is_locked(error) or time.monotonic() > deadline:
                        raise self._error(error) from None
                except sqlite3.DatabaseError as error:
                    raise self._error(error) from None
            time.sleep(pause)
            pause = min(pause * 2, 0.5)

    def _error(self, error: sqlite3.Error) -> StoreError:
        if _is_locked(error):
            return StoreError(f"run store {str(self.path)!r} stayed locked by another process for "
                              f"{LOCKED_FOR_S:.0f} s; try again once it has finished")
        return StoreError(f"run store {str(self.path)!r}: {error}. If it is not an MTL Lab run store, give another "
                          f"file with --db PATH or MTL_DB")


def _is_locked(error: sqlite3.Error) -> bool:
    text = str(error).lower()
    return "locked" in text or "busy" in text
