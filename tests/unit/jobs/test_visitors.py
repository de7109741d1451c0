"""A shared server's queue: per-visitor limits, round robin between visitors, closed tabs' runs stopped."""

from __future__ import annotations

import time
from typing import Any

import pytest

from mtl_core.admission import Admission, VisitorLimitError
from mtl_core.errors import MTLError
from mtl_core.store import RunStore
from tests.unit.jobs.conftest import ANN, BOB, CAT, LONG, TIMEOUT, finished, tiny


def test_a_visitor_past_its_waiting_runs_is_refused_naming_the_limit_and_its_variable(make_manager: Any) -> None:
    manager = make_manager(max_running=1, max_active=1, max_queued=2)
    running = manager.submit(tiny(LONG), owner=ANN)
    waiting = [manager.submit(tiny(), owner=ANN) for _ in range(2)]
    with pytest.raises(VisitorLimitError, match=r"at most 2 runs waiting per visitor \(MTL_MAX_QUEUED_PER_VISITOR\)"):
        manager.submit(tiny(), owner=ANN)
    assert isinstance(VisitorLimitError("x"), MTLError)
    assert len(manager.job_ids()) == 3  # the refused one was never queued (nor stored)
    assert manager.submit(tiny(), owner=BOB)  # another visitor still may
    assert manager.status(running) == "running" and [manager.status(job) for job in waiting] == ["queued"] * 2


def test_a_visitor_trains_at_most_its_active_runs_even_with_free_slots(make_manager: Any) -> None:
    manager = make_manager(max_running=2, max_active=1, max_queued=2)
    first = manager.submit(tiny(LONG), owner=ANN)
    second = manager.submit(tiny(), owner=ANN)
    assert manager.status(first) == "running" and manager.status(second) == "queued"
    other = manager.submit(tiny(), owner=BOB)  # the free slot goes to another visitor
    assert finished(manager, other) == "completed" and manager.status(second) == "queued"
    manager.cancel(first)
    assert finished(manager, second) == "completed"


def test_the_queue_serves_visitors_in_turn_not_in_submission_order(make_manager: Any) -> None:
    manager = make_manager(max_running=1, max_active=1, max_queued=3)
    blocker = manager.submit(tiny(LONG), owner=CAT)
    ann = [manager.submit(tiny(), owner=ANN) for _ in range(3)]
    bob = manager.submit(tiny(), owner=BOB)
    assert [manager.position(job) for job in (ann[0], bob, ann[1], ann[2])] == [1, 2, 3, 4]
    starts: list[str] = []
    manager.cancel(blocker)
    for job in (ann[0], bob, ann[1], ann[2]):
        assert finished(manager, job) == "completed"
        starts.append(job)
    started_at = {job: manager.snapshot(job).started_at or 0.0 for job in starts}
    assert sorted(starts, key=started_at.__getitem__) == [ann[0], bob, ann[1], ann[2]]


def test_round_robin_by_hand() -> None:
    queue = Admission(max_active=1, max_queued=5)
    for job, owner in [("a1", "ann"), ("a2", "ann"), ("a3", "ann"), ("b1", "bob"), ("c1", None), ("c2", None)]:
        queue.admit(job, owner, running=0)
    assert queue.order() == ["a1", "b1", "c1", "a2", "c2", "a3"]
    busy = {"bob"}  # bob is training its one run: its line is skipped
    taken = [queue.next(lambda owner: int(owner in busy)) for _ in range(5)]
    assert taken == ["a1", "c1", "a2", "c2", "a3"] and queue.order() == ["b1"]
    assert queue.next(lambda owner: 1) is None  # bob still busy: nothing may start


def test_a_closed_tabs_runs_are_stopped_after_the_grace_and_stored_as_stopped(make_manager: Any,
                                                                             store: RunStore) -> None:
    manager = make_manager(max_running=1, max_active=1, max_queued=2, grace_s=0.2)  # never touched after submit
    running, waiting = manager.submit(tiny(LONG), owner=ANN), manager.submit(tiny(), owner=ANN)
    assert finished(manager, running) == "stopped" and finished(manager, waiting) == "stopped"
    for job in (running, waiting):
        stored = store.get(manager.run_id(job))
        assert stored is not None and stored.status == "stopped"
        assert "MTL_DISCONNECT_GRACE_S" in (stored.summary.reason or ""), stored.summary.reason
    assert manager.events(running), "the history up to the stop is kept"


def test_a_visitor_still_seen_keeps_its_runs_and_one_unseen_past_the_grace_loses_them(make_manager: Any) -> None:
    manager = make_manager(max_running=1, grace_s=60)
    job = manager.submit(tiny(LONG), owner=ANN)
    manager.touch(ANN)
    assert manager.sweep(now=time.monotonic() + 30) == [] and manager.status(job) == "running"
    assert manager.sweep(now=time.monotonic() + 61) == [job]
    assert finished(manager, job) == "stopped"


def test_jobs_without_an_owner_are_never_stopped_for_silence(make_manager: Any) -> None:
    manager = make_manager(max_running=1, grace_s=0.01)
    job = manager.submit(tiny())
    assert manager.sweep(now=time.monotonic() + 3600) == []
    assert finished(manager, job) == "completed" and TIMEOUT
