"""The local backend: a pool of spawned processes gives the numbers of the same configs run one by one; a trial
that raises or whose process dies is tried again, then stored failed with its reason, and the others go on."""

from __future__ import annotations

from pathlib import Path

import pytest

from mtl_core.runs_cli import GroupRecording
from mtl_core.store import RunStore
from mtl_core.sweep import LocalBackend, Task, run_sweep
from mtl_core.sweep.trial import FAULTS_VARIABLE
from tests.unit.sweep.helpers import Collected, numbers, one_by_one, tiny_spec


def test_a_local_sweep_equals_its_trials_run_one_by_one_and_survives_faults(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(FAULTS_VARIABLE, "raise=901,exit=902")  # the spawned workers inherit it
    spec, trials = tiny_spec(seeds=[0, 1, 901, 902], grid={"strategy.name": ["equal"]})
    store = RunStore(tmp_path / "runs.sqlite")
    with GroupRecording(store, "sweep", trials[0].config) as group:
        summary = run_sweep(spec, trials, LocalBackend(2), on_run=group.on_run)
        group.finish(summary)

    rows = {row["seed"]: row for row in summary["trials"]}
    assert [rows[seed]["status"] for seed in (0, 1, 901, 902)] == ["completed", "completed", "failed", "failed"]
    assert rows[901]["reason"] == "RuntimeError: fault injected for train.seed 901" and rows[901]["attempts"] == 2
    assert "ended abruptly" in rows[902]["reason"] and rows[902]["attempts"] == 2
    assert summary["best"]["seed"] in (0, 1) and summary["status"] == "completed"

    stored = store.get_group(group.group_id)
    assert stored is not None and stored.summary.kind == "sweep" and stored.summary.status == "completed"
    runs = {run.label: store.require(run.id) for run in stored.runs}
    for trial, expected in zip(trials[:2], one_by_one(trials[:2]), strict=True):
        assert numbers(runs[trial.label].results_dict or {}) == numbers(expected)
    assert runs[trials[2].label].status == "failed" and "fault injected" in runs[trials[2].label].summary.reason


def test_a_cancel_stops_the_running_trial_keeps_the_finished_one_and_starts_no_other() -> None:
    _, trials = tiny_spec(grid={"train.epochs": [20, 1000, 20]})
    collected = Collected()

    def stop_once_one_ended() -> bool:
        return bool(collected.outcomes)

    LocalBackend(2).run([Task(str(trial.index), trial.config) for trial in trials], collected, stop_once_one_ended)
    finished, stopped = collected.outcomes["0"], collected.outcomes["1"]
    assert finished.status == "done" and (finished.results or {})["epochs_run"] == 20
    assert stopped.status == "stopped" and 0 <= (stopped.results or {})["epochs_run"] < 1000
    assert "2" not in collected.outcomes  # never started
