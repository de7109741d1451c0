"""The Insight page in a real browser: an example run with diagnostics draws its cosine heat map."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.browser.support import (  # noqa: F401  (app_url, browser, page are fixtures)
    SETTLE_MS, app_url, browser, expect, page, ready, set_number,
)

pytestmark = pytest.mark.browser


def test_a_diagnostics_run_draws_its_cosine_heat_map(app_url: str, page: Any, tmp_path: Path) -> None:
    page.goto(f"{app_url}/insight")
    expect(page.get_by_role("heading", name="Insight", exact=True)).to_be_visible(timeout=30_000)
    ready(page)
    start = page.get_by_role("button", name="Train with diagnostics")
    expect(start).to_be_visible(timeout=30_000)  # the first example (mmoe-synthetic) needs no download
    set_number(page, "Epochs", "2")
    start.click()

    heat_map = page.get_by_test_id("stPlotlyChart").filter(has_text="Cosine of the task gradients")
    expect(heat_map.locator("g.hm")).to_have_count(1, timeout=60_000)  # the heat map's trace is drawn
    expect(page.get_by_text("opposite directions in")).to_be_visible(timeout=SETTLE_MS)
    expect(page.get_by_test_id("stException")).to_have_count(0)
    shots = Path(os.environ.get("E2E_SHOT_DIR", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / "insight_page.png"), full_page=True)
