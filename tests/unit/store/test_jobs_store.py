"""The dashboard's jobs store their runs as they train, under the session that started them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mtl_core.jobs import JobManager
from mtl_core.store import RunStore

from tests.unit.store.conftest import diabetes
from tests.unit.store.writers import synthetic_results


def test_a_jobs_run_is_stored_with_its_owner_history_and_files(store: RunStore) -> None:
    manager = JobManager(max_running=1, store=store)
    job = manager.submit(diabetes(epochs=3), owner="session-1")
    run_id = manager.run_id(job)
    assert run_id is not None and manager.snapshot(job).run_id == run_id
    assert manager.wait(job, timeout=60) and manager.status(job) == "completed"
    run = store.require(run_id)
    results = manager.results(job)
    assert results is not None and run.history == results["history"] and run.metrics == results["metrics"]
    assert (run.summary.owner, run.summary.source, run.status) == ("session-1", "dashboard", "completed")
    assert "checkpoints/best.pt" in run.artefacts and store.list_runs(owner="session-2") == []
    manifest = json.loads((store.run_dir(run_id) / "manifest.json").read_text(encoding="utf-8"))
    assert "checkpoints/last.pt" in json.dumps(manifest)  # the last epoch's weights are vouched for too


def test_a_cancelled_queued_job_is_stored_as_stopped(store: RunStore) -> None:
    manager = JobManager(max_running=1, store=store)
    first = manager.submit(diabetes(epochs=200))
    queued = manager.submit(diabetes(epochs=2))
    assert manager.cancel(queued)
    manager.cancel(first)
    assert manager.wait(first, timeout=60)
    summary = store.summary(manager.run_id(queued) or "")
    assert summary is not None and summary.status == "stopped" and summary.epochs_run == 0
    assert store.summary(manager.run_id(first) or "").status == "stopped"  # type: ignore[union-attr]


def test_a_new_manager_marks_runs_of_dead_processes_interrupted(store: RunStore) -> None:
    run_id = store.start_run(synthetic_results(0).config)
    store.db.write(lambda c: c.execute("UPDATE runs SET pid = 2147483646 WHERE id = ?", (run_id,)))
    JobManager(max_running=1, store=store)
    assert store.summary(run_id).status == "interrupted"  # type: ignore[union-attr]


def test_the_process_wide_manager_stores_unless_turned_off(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import mtl_core.jobs as jobs

    monkeypatch.setattr(jobs, "_manager", None)
    monkeypatch.setenv("MTL_HOME", str(tmp_path))
    manager = jobs.job_manager()
    assert manager.store is not None and manager.store.path == tmp_path / "runs.sqlite"
    monkeypatch.setattr(jobs, "_manager", None)
    monkeypatch.setenv("MTL_STORE", "off")
    assert jobs.job_manager().store is None


def test_a_work_job_with_a_group_stores_its_runs_and_summary(store: RunStore) -> None:
    from mtl_core.compare import compare

    def work(should_stop: object, report: object, on_run: object) -> dict[str, object]:
        return compare(diabetes(epochs=2), seeds=1, should_stop=should_stop, on_progress=report,  # type: ignore[arg-type]
                       on_run=on_run)  # type: ignore[arg-type]

    manager = JobManager(max_running=1, store=store)
    job = manager.submit_work(work, diabetes(epochs=2), 2, owner="session-1", group="compare")  # type: ignore[arg-type]
    assert manager.wait(job, timeout=60) and manager.status(job) == "completed"
    group = store.get_group(manager.snapshot(job).group_id or "")
    assert group is not None and group.summary.owner == "session-1" and group.summary.status == "completed"
    assert sorted(str(run.label) for run in group.runs) == ["equal", "stl"]
    assert all(run.owner == "session-1" for run in group.runs) and group.result == manager.results(job)


def test_a_work_job_without_a_group_is_called_as_before(store: RunStore) -> None:
    manager = JobManager(max_running=1, store=store)
    job = manager.submit_work(lambda should_stop, report: {"value": 1}, diabetes(epochs=1), 1)
    assert manager.wait(job, timeout=60) and manager.results(job) == {"value": 1, "status": "completed"}
    assert store.list_groups() == []


def test_the_process_wide_manager_trains_without_a_store_it_cannot_open(monkeypatch: pytest.MonkeyPatch,
                                                                        tmp_path: Path) -> None:
    import mtl_core.jobs as jobs

    (tmp_path / "file").write_text("x", encoding="utf-8")
    monkeypatch.setattr(jobs, "_manager", None)
    monkeypatch.setenv("MTL_DB", str(tmp_path / "file" / "runs.sqlite"))  # under a file: cannot be created
    assert jobs.job_manager().store is None
