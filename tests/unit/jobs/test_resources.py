"""What a job may cost a shared server: built when it starts, no weights kept, a time limit, a comparison budget,
memory errors as messages, and one thread count owned by the manager."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import torch

from mtl_core import jobs, limits
from mtl_core.errors import ConfigError
from mtl_core.experiment import Experiment
from mtl_core.runs import CHECKPOINT_FILE
from mtl_core.store import RunStore
from mtl_core.train.trainer import cpu_threads, pin_threads
from tests.unit.jobs.conftest import LONG, finished, tiny


def test_a_queued_run_builds_its_data_and_model_only_when_it_starts(make_manager: Any,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[int] = []

    def counted(*args: Any, **kwargs: Any) -> Experiment:
        built.append(1)
        return Experiment(*args, **kwargs)
    monkeypatch.setattr(jobs, "Experiment", counted)
    manager = make_manager(max_running=1)
    first = manager.submit(tiny(LONG))
    assert manager.wait_for_events(first, 1, timeout=60)
    second = manager.submit(tiny())
    assert manager.status(second) == "queued" and len(built) == 1
    manager.cancel(first)
    assert finished(manager, second) == "completed" and len(built) == 2


def test_a_bad_setting_is_still_refused_at_submit(make_manager: Any) -> None:
    manager = make_manager(max_running=1)
    with pytest.raises(ConfigError, match="strategy"):
        manager.submit(tiny().model_copy(update={"strategy": tiny().strategy.model_copy(
            update={"name": "gradnorm", "hparams": {"alpha": -1.0}})}))
    assert manager.job_ids() == []


def test_finished_jobs_keep_no_weights_in_memory_they_are_read_from_the_run_folder(make_manager: Any,
                                                                                  store: RunStore) -> None:
    manager = make_manager(max_running=1)
    job = manager.submit(tiny())
    assert finished(manager, job) == "completed"
    checkpoint = store.run_dir(manager.run_id(job)) / CHECKPOINT_FILE
    assert manager.weights(job) == checkpoint.read_bytes()
    checkpoint.unlink()
    assert manager.weights(job) is None, "the weights came from the file, not from memory"
    assert "weights" not in jobs._Job.__slots__ and "experiment" not in jobs._Job.__slots__


def test_the_manager_keeps_at_most_max_kept_jobs_finished_jobs() -> None:
    assert jobs.JobManager().keep_finished == limits.MAX_KEPT_JOBS
    manager = jobs.JobManager(max_running=1, keep_finished=2)
    done = [manager.submit(tiny(1)) for _ in range(4)]
    assert finished(manager, done[-1]) == "completed"
    assert manager.job_ids() == done[-2:]


def test_the_shared_managers_concurrency_is_max_jobs() -> None:
    assert jobs.job_manager().max_running == limits.MAX_JOBS


def test_a_run_past_its_wall_time_stops_like_stop_with_the_limit_named(make_manager: Any, store: RunStore) -> None:
    manager = make_manager(max_running=1, max_run_seconds=0.2)
    job = manager.submit(tiny(LONG))
    assert finished(manager, job) == "stopped"
    results = manager.results(job)
    assert results is not None and "MTL_MAX_RUN_SECONDS" in results["reason"], results["reason"]
    assert 0 < len(results["history"]) < LONG
    stored = store.get(manager.run_id(job))
    assert stored is not None and stored.status == "stopped"


def test_a_comparison_past_its_epoch_budget_is_refused_at_submit(make_manager: Any) -> None:
    manager = make_manager(max_running=1, max_comparison_epochs=100)
    with pytest.raises(ConfigError, match=r"120 epochs: at most 100 epochs in one comparison "
                                          r"\(MTL_MAX_COMPARISON_EPOCHS\)"):
        manager.submit_work(lambda should_stop, report: {}, tiny(epochs=10), total=12)
    assert manager.job_ids() == []
    assert finished(manager, manager.submit_work(lambda should_stop, report: {}, tiny(10), total=10)) == "completed"


@pytest.mark.parametrize("error", [
    MemoryError(),
    RuntimeError("[enforce fail at alloc_cpu.cpp:116] . DefaultCPUAllocator: not enough memory: you tried to "
                 "allocate 68719476736 bytes."),
])
def test_running_out_of_memory_fails_the_run_with_a_message_and_the_worker_lives_on(
        make_manager: Any, monkeypatch: pytest.MonkeyPatch, error: BaseException) -> None:
    def out_of_memory(*args: Any, **kwargs: Any) -> Experiment:
        raise error
    manager = make_manager(max_running=1)
    with monkeypatch.context() as patch:
        patch.setattr(jobs, "Experiment", out_of_memory)
        job = manager.submit(tiny())
        assert finished(manager, job) == "failed"
    assert "ran out of memory" in (manager.error(job) or "") and "\n" not in (manager.error(job) or "")
    assert finished(manager, manager.submit(tiny())) == "completed"


def test_a_worker_pins_the_thread_count_and_a_runs_own_is_ignored_there() -> None:
    seen: list[int] = []

    def worker() -> None:
        pin_threads(1)
        with cpu_threads(2):
            seen.append(torch.get_num_threads())
    before = torch.get_num_threads()
    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert seen == [1]
    torch.set_num_threads(before)


def test_the_manager_shares_the_cores_between_the_runs_it_trains_at_once() -> None:
    assert jobs.JobManager(max_running=2).threads_per_job == max(1, (jobs.os.cpu_count() or 1) // 2)


@pytest.mark.skipif(not __import__("sys").platform.startswith("linux"), reason="threads have their own niceness on "
                    "Linux only")
def test_runs_train_on_threads_niced_below_the_pages(make_manager: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import os
    monkeypatch.setattr(jobs, "TRAINING_NICE", 7)
    seen: list[int] = []

    def work(should_stop: Any, report: Any) -> dict[str, Any]:
        seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        return {}
    here = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    manager = make_manager(max_running=1)
    assert finished(manager, manager.submit_work(work, tiny(), total=1)) == "completed"
    assert seen == [max(here, 7)]  # the worker yields ...
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == here  # ... the calling (page) thread not
