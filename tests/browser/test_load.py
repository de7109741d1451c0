"""Five visitors at once on the real server (``python -m bench.load --sessions 5``): everyone answered, the closed
tab's run stopped in the run store, no live run lost, no page showing another's run, under 3 GB.

How fast they are answered is a benchmark figure (docs/benchmarks.md, ``python -m bench.load``), not asserted here:
a test's timing would measure the machine it runs on as much as the server."""

from __future__ import annotations

import pytest

from bench.load import MEMORY_MB, run
from tests.browser.support import CHROMIUM

pytestmark = pytest.mark.browser


def test_five_sessions_one_abandoned_all_answered_none_lost_none_leaked() -> None:
    assert CHROMIUM is not None
    result = run(5, abandon_every=4, chromium=CHROMIUM, finish_s=60)
    assert result["errors"] == []
    assert result["answered"] == result["sessions"] == 5, result
    assert result["abandoned"] == result["abandoned_stopped"] == 1, result
    assert result["runs_completed"] == 4 and result["runs_lost"] == 0, result
    assert result["cross_session_leaks"] == 0, result
    assert 0 < result["peak_rss_mb"] < MEMORY_MB, result
