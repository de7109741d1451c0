"""Three visitors at once on the real server, speaking Streamlit's websocket protocol (``python -m bench.load
--client protocol --sessions 3``): everyone answered, no live run lost, no session shown another's run.

No browser is needed: the sessions are the load test's protocol client, so this runs wherever the server does.
How fast they are answered is a benchmark figure (docs/benchmarks.md), not asserted here."""

from __future__ import annotations

import pytest

from bench.load import run

pytestmark = pytest.mark.browser  # a real server on a port, as the browser load test


def test_three_protocol_sessions_all_answered_none_lost_none_leaked() -> None:
    result = run(3, abandon_every=4, chromium=None, finish_s=60, client="protocol")
    assert result["errors"] == [], result
    assert result["client"] == "protocol"
    assert result["answered"] == result["sessions"] == 3, result
    assert result["runs_completed"] == 3 and result["runs_lost"] == 0, result
    assert result["cross_session_leaks"] == 0, result
    assert result["ok"], result
