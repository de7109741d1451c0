"""A CLI run killed with SIGKILL mid-training: earlier runs intact, the killed one ``interrupted`` with its epochs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mtl_core.cli import main
from mtl_core.store import RunStore

from tests.unit.store.conftest import DIABETES_TOML, ROOT
from tests.unit.store.writers import synthetic_results

WAIT_S = 60.0


def epochs_written(path: Path) -> int:
    """Epoch rows of the run that is still running (0 before it starts)."""
    if not path.is_file():
        return 0
    store = RunStore(path)
    try:
        running = store.list_runs(status="running")
        return len(store.history(running[0].id)) if running else 0
    finally:
        store.close()


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="SIGKILL is a POSIX signal")
def test_a_killed_cli_run_is_interrupted_with_the_epochs_it_wrote(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    home = tmp_path / "home"
    path = home / "runs.sqlite"
    assert main(["run", str(DIABETES_TOML), "--db", str(path), "--set", "train.epochs=2", "--out",
                 str(tmp_path / "r.json"), "--quiet"]) == 0
    earlier = RunStore(path)
    earlier.store_results(synthetic_results(5))
    before = {run.id: earlier.get(run.id) for run in earlier.list_runs()}
    earlier.close()
    env = {**os.environ, "MTL_HOME": str(home), "MTL_MAX_EPOCHS": "100000"}  # a run long enough to be killed
    env.pop("MTL_DB", None)
    process = subprocess.Popen([sys.executable, "-m", "mtl_core", "run", str(DIABETES_TOML), "--quiet", "--set",
                                "train.epochs=100000", "--out", str(tmp_path / "killed.json")],
                               cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + WAIT_S
    while epochs_written(path) < 3 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)  # polling another process's progress
    assert process.poll() is None, process.stderr.read() if process.stderr else "the run ended before the kill"
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL, process.stderr.read() if process.stderr else ""

    store = RunStore(path)
    assert store.mark_interrupted() == 1
    killed = store.list_runs(status="interrupted")
    assert len(killed) == 1 and store.count_runs() == len(before) + 1
    history = store.history(killed[0].id)
    assert len(history) >= 3 and [entry["epoch"] for entry in history] == list(range(1, len(history) + 1))
    assert killed[0].epochs_run == len(history) and f"after {len(history)} epochs" in killed[0].reason
    assert {run_id: store.get(run_id) for run_id in before} == before  # earlier runs intact
    assert store.mark_interrupted() == 0  # marked once


def test_a_running_run_of_a_live_process_is_left_running(store: RunStore) -> None:
    run_id = store.start_run(synthetic_results(0).config)
    assert store.mark_interrupted() == 0 and store.summary(run_id).status == "running"  # type: ignore[union-attr]


def test_a_run_whose_pid_now_belongs_to_another_process_is_interrupted(store: RunStore) -> None:
    run_id = store.start_run(synthetic_results(0).config)
    store.db.write(lambda c: c.execute("UPDATE runs SET process_start = 'earlier' WHERE id = ?", (run_id,)))
    assert store.mark_interrupted() == 1 and store.summary(run_id).status == "interrupted"  # type: ignore[union-attr]
