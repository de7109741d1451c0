"""AppTest helpers: open the app from its entry file, switch pages, wait for a job without sleeping."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from mtl_core.jobs import job_manager

APP = str(Path(__file__).resolve().parents[2] / "app.py")  # AppTest resolves relative paths from the caller
TIMEOUT = 60.0


def open_app(page: str | None = None, query: Mapping[str, str] | None = None) -> AppTest:
    """The app run once (with ``query`` as the URL's query string), then switched to ``page`` if given."""
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    if page is not None:
        at.switch_page(page).run()
    assert not at.exception, [item.value for item in at.exception]
    return at


def run_to_the_end(at: AppTest, key: str = "job_id") -> str:
    """Wait for the session's job to end, then rerun the page (AppTest does not tick run_every fragments)."""
    current = at.session_state[key]
    assert job_manager().wait(current, timeout=TIMEOUT), "the job did not end in time"
    at.run()
    return str(current)


@pytest.fixture(autouse=True)
def _no_jobs_left_running() -> Iterator[None]:
    """Stop whatever a test started, so one test's long run never slows the next."""
    yield
    job_manager().cancel_all()
