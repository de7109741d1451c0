"""Eight threads and two processes writing runs into one store at once: every row arrives, no error surfaces."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from mtl_core.store import RunStore
from mtl_core.store import database

from tests.unit.store.conftest import ROOT
from tests.unit.store.writers import write_runs

RUNS_EACH = 15


def test_eight_threads_and_two_processes_write_every_row(tmp_path: Path) -> None:
    path = tmp_path / "runs.sqlite"
    shared = RunStore(path)  # four threads share one store; four open their own (another connection each)
    processes = [subprocess.Popen([sys.executable, "-m", "tests.unit.store.writers", str(path), str(prefix),
                                   str(RUNS_EACH)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True) for prefix in (100, 101)]
    written: dict[int, list[str]] = {}
    errors: list[BaseException] = []

    def writer(prefix: int) -> None:
        try:
            written[prefix] = write_runs(shared if prefix < 4 else RunStore(path), prefix, RUNS_EACH)
        except BaseException as error:  # collected, so the test names it
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(prefix,)) for prefix in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    outputs = [process.communicate(timeout=120) for process in processes]
    assert errors == [] and [process.returncode for process in processes] == [0, 0], outputs
    ids = [run_id for prefix in range(8) for run_id in written[prefix]]
    ids += [line for out, _ in outputs for line in out.split()]
    check = RunStore(path)
    assert len(ids) == 10 * RUNS_EACH == check.count_runs(status="completed") == len(set(ids))
    assert {run.id for run in check.list_runs(limit=1000)} == set(ids)
    epochs = check.db.read("SELECT count(*) FROM epochs")[0][0]
    assert epochs == 3 * len(ids)


def test_a_write_waits_for_another_writer_instead_of_failing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The busy timeout is 1 ms here, so only the store's retries get the write past a lock held for 0.3 s."""
    monkeypatch.setattr(database, "BUSY_TIMEOUT_MS", 1)
    store = RunStore(tmp_path / "runs.sqlite")
    other = sqlite3.connect(tmp_path / "runs.sqlite", isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # another process holding the write lock
    release = threading.Timer(0.3, lambda: other.execute("COMMIT"))
    release.start()
    run_id = store.start_run({"data": {"dataset": "diabetes"}})
    release.join()
    assert store.summary(run_id) is not None
