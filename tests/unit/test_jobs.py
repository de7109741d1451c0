"""JobManager: background runs, a bounded number at once, a FIFO queue, cancel, event buffers."""

from __future__ import annotations

import os
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from mtl_core import jobs, limits
from mtl_core.config import ExperimentConfig
from mtl_core.errors import MTLError, UnknownNameError
from mtl_core.jobs import JobManager, UnknownJobError, job_manager
from mtl_core.experiment import prepare
from mtl_core.store import RunStore
from mtl_core.train.evaluation import to_natural
from mtl_core.train.events import EpochEnded, RunEnded, RunStarted
from mtl_core.train.trainer import build_run_model

TIMEOUT = 60.0  # seconds; a tiny diabetes run takes well under one
LONG = limits.MAX_EPOCHS  # epochs: a run that only ends early because it is stopped


def tiny(epochs: int = 3) -> ExperimentConfig:
    """Diabetes (no download), a small model, full batch."""
    return ExperimentConfig.from_dict({
        "data": {"dataset": "diabetes"}, "model": {"hidden": [8]}, "train": {"epochs": epochs, "seed": 0},
    })


@pytest.fixture
def manager() -> Iterator[JobManager]:
    """A private manager with one slot; every job it still holds is stopped afterwards."""
    instance = JobManager(max_running=1)
    yield instance
    instance.cancel_all()


def finished(manager: JobManager, job_id: str) -> str:
    """Wait for the job to end and return its status."""
    assert manager.wait(job_id, timeout=TIMEOUT), f"job {job_id} did not end within {TIMEOUT} s"
    return manager.status(job_id)


def test_a_run_completes_with_its_events_and_results(manager: JobManager) -> None:
    job_id = manager.submit(tiny(epochs=4))
    assert finished(manager, job_id) == "completed"
    events = manager.events(job_id)
    assert isinstance(events[0], RunStarted) and isinstance(events[-1], RunEnded)
    assert [event.epoch for event in events if isinstance(event, EpochEnded)] == [1, 2, 3, 4]
    results = manager.results(job_id)
    assert results is not None and results["status"] == "completed" and len(results["history"]) == 4
    assert set(results["metrics"]["test"]) == {"progression", "high_progression"}
    assert manager.error(job_id) is None


def test_bad_settings_raise_before_anything_is_queued(manager: JobManager) -> None:
    config = ExperimentConfig.from_dict({"data": {"dataset": "diabetis"}})
    with pytest.raises(UnknownNameError, match="Did you mean 'diabetes'"):
        manager.submit(config)
    assert manager.job_ids() == []


def test_cancel_ends_a_running_job_within_one_epoch_and_keeps_its_history(manager: JobManager) -> None:
    job_id = manager.submit(tiny(epochs=LONG))
    assert manager.wait_for_events(job_id, 3, timeout=TIMEOUT)  # RunStarted and two epochs
    assert manager.cancel(job_id)
    epochs_at_cancel = manager.snapshot(job_id).epochs_done
    assert finished(manager, job_id) == "stopped"
    results = manager.results(job_id)
    assert results is not None and results["status"] == "stopped"
    assert 2 <= results["epochs_run"] <= epochs_at_cancel + 1
    assert [row["epoch"] for row in results["history"]] == list(range(1, results["epochs_run"] + 1))
    assert results["metrics"]["test"], "a stopped run is still evaluated"


def test_beyond_the_limit_jobs_wait_in_submission_order(manager: JobManager) -> None:
    first = manager.submit(tiny(epochs=LONG))
    second, third = manager.submit(tiny()), manager.submit(tiny())
    assert manager.status(first) == "running"
    assert [manager.status(second), manager.position(second)] == ["queued", 1]
    assert [manager.status(third), manager.position(third)] == ["queued", 2]
    manager.cancel(first)
    assert [finished(manager, job) for job in (first, second, third)] == ["stopped", "completed", "completed"]
    snapshots = [manager.snapshot(job) for job in (first, second, third)]
    for earlier, later in zip(snapshots, snapshots[1:]):
        assert earlier.ended_at is not None and later.started_at is not None
        assert later.started_at >= earlier.ended_at, "with one slot, a job starts only after the previous one ended"
    assert all(snapshot.position is None for snapshot in snapshots)


def test_a_cancelled_queued_job_never_starts(manager: JobManager) -> None:
    first = manager.submit(tiny(epochs=LONG))
    queued = manager.submit(tiny())
    assert manager.cancel(queued)
    assert finished(manager, queued) == "stopped"
    snapshot = manager.snapshot(queued)
    assert snapshot.events == () and snapshot.results is None and snapshot.started_at is None
    assert manager.status(first) == "running"


def test_an_exception_in_training_marks_the_job_failed_and_frees_the_slot(
    manager: JobManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> dict[str, Any]:
        raise RuntimeError("the trainer broke")

    with monkeypatch.context() as patch:
        patch.setattr(jobs.Experiment, "results", broken)
        failing = manager.submit(tiny())
        assert finished(manager, failing) == "failed"
    assert manager.error(failing) == "RuntimeError: the trainer broke"
    assert manager.results(failing) is None
    assert finished(manager, manager.submit(tiny())) == "completed"


def test_events_are_a_snapshot_not_the_live_buffer(manager: JobManager) -> None:
    job_id = manager.submit(tiny())
    finished(manager, job_id)
    events = manager.events(job_id)
    events.clear()
    assert len(manager.events(job_id)) == 5  # RunStarted, 3 epochs, RunEnded
    assert len(manager.events(job_id, start=4)) == 1


def test_an_unknown_job_id_is_a_user_error(manager: JobManager) -> None:
    with pytest.raises(UnknownJobError, match="no job with id 'nope'") as caught:
        manager.status("nope")
    assert isinstance(caught.value, MTLError)


def test_only_the_newest_finished_jobs_are_kept() -> None:
    manager = JobManager(max_running=1, keep_finished=1)
    older, newer = manager.submit(tiny(epochs=1)), manager.submit(tiny(epochs=1))
    finished(manager, newer)
    with pytest.raises(UnknownJobError):
        manager.status(older)
    assert manager.status(newer) == "completed"


def test_the_default_limit_is_the_number_of_cores() -> None:
    assert JobManager().max_running == (os.cpu_count() or 1)


def test_job_manager_is_one_object_per_process() -> None:
    assert job_manager() is job_manager()


def test_the_evaluated_weights_can_be_downloaded_and_reproduce_the_test_predictions(tmp_path: Path) -> None:
    manager = JobManager(max_running=1, store=RunStore(tmp_path / "runs.db"))  # the weights are read from its folder
    job = manager.submit(tiny())
    assert finished(manager, job) == "completed"
    state = torch.load(io.BytesIO(manager.weights(job) or b""), weights_only=True)
    config, dataset = prepare(manager.config(job))
    model = build_run_model(config, dataset)
    model.load_state_dict(state)
    model.eval()
    with torch.no_grad():
        outputs = model(dataset.test.features)
    again = to_natural(outputs["progression"], dataset.info["progression"])
    stored = manager.results(job)["predictions"]["progression"]["pred"]  # type: ignore[index]
    np.testing.assert_allclose(again, stored, rtol=1e-5, atol=1e-4)


def test_a_work_job_reports_progress_and_its_results_become_the_jobs(manager: JobManager) -> None:
    def work(should_stop: Any, report: Any) -> dict[str, Any]:
        for step in range(1, 4):
            report(step, 3, f"step {step}")
        return {"answer": 42}

    job = manager.submit_work(work, tiny(), total=3)
    assert finished(manager, job) == "completed"
    snapshot = manager.snapshot(job)
    assert snapshot.progress == (3, 3, "step 3") and snapshot.results == {"answer": 42, "status": "completed"}


def test_a_cancelled_work_job_sees_should_stop_and_ends_stopped(manager: JobManager) -> None:
    import threading

    started = threading.Event()

    def work(should_stop: Any, report: Any) -> dict[str, Any]:
        started.set()
        release = threading.Event()
        while not should_stop():
            release.wait(0.01)  # the work's own loop, polling its stop flag as a comparison does between runs
        return {"partial": True}

    job = manager.submit_work(work, tiny(), total=1)
    assert started.wait(TIMEOUT)
    assert manager.cancel(job)
    assert finished(manager, job) == "stopped" and manager.results(job) == {"partial": True, "status": "stopped"}


def test_a_work_job_waits_in_the_same_queue_as_runs(manager: JobManager) -> None:
    first = manager.submit(tiny(epochs=LONG))
    job = manager.submit_work(lambda should_stop, report: {}, tiny(), total=1)
    assert manager.status(job) == "queued" and manager.position(job) == 1
    manager.cancel(first)
    assert finished(manager, job) == "completed"


def test_jobs_one_after_another_reuse_one_worker_thread() -> None:
    manager = JobManager(max_running=2)
    for _ in range(3):
        assert finished(manager, manager.submit(tiny())) == "completed"
    assert len(manager._workers) == 1, "a free worker takes the next job; no new thread is started for it"
    first, second = manager.submit(tiny(epochs=LONG)), manager.submit(tiny(epochs=LONG))
    assert manager.wait_for_events(second, 3, timeout=TIMEOUT)
    assert len(manager._workers) == 2 and manager.status(first) == "running"
    manager.cancel_all()
    assert finished(manager, first) == finished(manager, second) == "stopped"


class CountedDeque(jobs.deque):  # type: ignore[type-arg]
    """A deque that counts how often its length is asked for (a waiting worker's predicate asks it)."""

    asked = 0

    def __len__(self) -> int:
        CountedDeque.asked += 1
        return super().__len__()


def test_an_idle_worker_sleeps_through_another_jobs_epochs() -> None:
    manager = JobManager(max_running=2)
    long_job = manager.submit(tiny(epochs=LONG))
    assert manager.wait_for_events(long_job, 2, timeout=TIMEOUT)
    assert finished(manager, manager.submit(tiny())) == "completed"  # a second worker, idle from now on
    assert len(manager._workers) == 2
    manager._ready = CountedDeque(manager._ready)
    before = len(manager.events(long_job))
    assert manager.wait_for_events(long_job, before + 200, timeout=TIMEOUT)
    manager.cancel(long_job)
    assert finished(manager, long_job) == "stopped"
    # each wake-up of the idle worker would ask once; waking at every epoch took the interpreter lock
    # from the training thread hundreds of times a second
    assert CountedDeque.asked < 10, f"the idle worker was woken {CountedDeque.asked} times in 200 epochs"
