"""A shared server in the pages: a tab whose run a restart interrupted is told so (and shown the stored run) instead
of an empty page; a visitor past its runs is told the limit; a run's own thread count is said to be ignored."""

from __future__ import annotations

from mtl_core import limits
from mtl_core.config import ExperimentConfig
from mtl_core.jobs import job_manager
from tests.app.conftest import open_app

RESTARTED = "The server restarted: your run was stopped; it is kept under **Runs** as interrupted."


def test_a_run_unknown_after_a_restart_is_reported_as_interrupted_and_shown() -> None:
    at = open_app("pages/train.py")
    at.number_input(key="train.epochs").set_value(1000).run()
    at.button(key="train.start").click().run()
    job = str(at.session_state["job_id"])
    manager, run_id = job_manager(), job_manager().run_id(job)
    assert run_id is not None and manager.store is not None
    manager.cancel(job)
    assert manager.wait(job, timeout=60)
    # what a restart leaves: a new server that never heard of the job, the run marked interrupted by its start
    del manager._jobs[job]
    manager.store.fail(run_id, "the process that trained it stopped", status="interrupted")
    at.run()
    assert [warning.value for warning in at.warning if "restarted" in warning.value] == [RESTARTED]
    assert not at.error and not at.exception
    assert at.session_state["stored_run"] == run_id
    at.run()
    assert not [warning for warning in at.warning if "restarted" in warning.value], "said once"


def test_a_fresh_tab_of_a_browser_whose_run_a_restart_stopped_is_told_so() -> None:
    at = open_app()
    owner, store = str(at.session_state["owner"]), job_manager().store
    assert store is not None
    run_id = store.start_run(ExperimentConfig(), owner=owner, source="dashboard")
    store.fail(run_id, "the process that trained it stopped", status="interrupted")
    at.switch_page("pages/train.py").run()
    assert [warning.value for warning in at.warning if "restarted" in warning.value] == [RESTARTED]
    assert at.session_state["stored_run"] == run_id and not at.exception


def test_a_visitor_past_its_waiting_runs_is_told_the_limit_and_its_variable() -> None:
    at = open_app("pages/train.py")
    owner, manager = str(at.session_state["owner"]), job_manager()
    long = ExperimentConfig.from_dict({"data": {"dataset": "diabetes"}, "train": {"epochs": limits.MAX_EPOCHS}})
    for _ in range(limits.MAX_ACTIVE_PER_VISITOR + limits.MAX_QUEUED_PER_VISITOR):
        manager.submit(long, owner=owner)  # another tab of the same browser
    at.button(key="train.start").click().run()
    shown = [error.value.replace("\\_", "_") for error in at.error]  # the page escapes Markdown
    assert any("MTL_MAX_QUEUED_PER_VISITOR" in text for text in shown), shown
    assert not at.exception


def test_a_runs_own_thread_count_is_said_to_be_ignored_by_the_server() -> None:
    at = open_app()
    at.session_state["config"] = ExperimentConfig.from_dict({"train": {"threads": 3}}).to_dict()
    at.switch_page("pages/train.py").run()
    notes = [caption.value for caption in at.caption if "train.threads = 3" in caption.value]
    assert len(notes) == 1 and "command line only" in notes[0] and "MTL\\_MAX\\_JOBS" not in notes[0]
