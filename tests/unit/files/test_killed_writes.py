"""A run folder killed (SIGKILL) at any moment of a rerun, or on a full disk, holds the old whole run or the new
one, never a mix; ``predict`` refuses a folder that is cut short or mixed, with one line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.unit.files.faults import RERUN_FAULTS

ROOT = Path(__file__).resolve().parents[3]
CONFIG = """
[data]
dataset = "diabetes"
[model]
hidden = [256, 256]
[train]
epochs = 1
device = "cpu"
threads = 1
"""

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the fault child forks one process per fault")


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("faults")
    config = work / "big.toml"
    config.write_text(CONFIG, encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "tests.unit.files.faults", str(work), str(config)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return {"work": work, **json.loads(done.stdout.splitlines()[-1])}


@pytest.mark.parametrize("fault", [name for name in RERUN_FAULTS if name not in
                                   ("after the folders are swapped", "on a full disk")])
def test_a_rerun_killed_before_it_is_whole_leaves_the_old_run(report: dict[str, Any], fault: str) -> None:
    assert report["first"] == 0
    assert report[fault]["code"] == -9, report[fault]["stderr"]
    assert report[fault]["state"] == "old"


def test_a_rerun_killed_just_after_the_swap_leaves_the_new_run(report: dict[str, Any]) -> None:
    assert report["after the folders are swapped"]["code"] == -9
    assert report["after the folders are swapped"]["state"] == "new"


def test_a_full_disk_exits_2_with_one_line_and_keeps_the_old_run(report: dict[str, Any]) -> None:
    outcome = report["on a full disk"]
    assert outcome["code"] == 2 and outcome["state"] == "old"
    lines = outcome["stderr"].splitlines()
    assert len(lines) == 1 and "best.pt" in lines[0] and "File too large" in lines[0]


def test_a_first_run_killed_leaves_no_folder_and_predict_says_so_in_one_line(
        report: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    from mtl_core.cli import main

    assert report["fresh folder, killed while best.pt is written"] == {"code": -9, "state": "absent"}
    assert main(["predict", str(report["work"] / "fresh"), str(report["work"] / "big.toml")]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_a_later_rerun_is_whole_and_clears_what_killed_runs_left(report: dict[str, Any]) -> None:
    last = report["rerun after the faults"]
    assert last["code"] == 0 and last["state"] == "new" and last["siblings"] == []


def test_a_stored_run_killed_while_saving_leaves_no_folder_and_the_next_run_clears_its_remains(
        report: dict[str, Any]) -> None:
    store = report["store"]
    assert (store["killed"], store["visible after the kill"], store["after"]) == (-9, [], 0)
    (entry,) = store["entries after"]
    assert not entry.startswith(".")
