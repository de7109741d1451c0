"""Stored runs in a real browser: a run trained, the page reloaded, the run still listed (the browser's owner
cookie) on Train and Runs; another browser does not see it, but opens it by its read-only link."""

from __future__ import annotations

from typing import Any

import pytest

from mtl_core.store import RunStore, default_path

from tests.browser.support import (  # noqa: F401  (app_url, browser and page are fixtures)
    SETTLE_MS, app_url, browser, expect, open_train, page, ready, set_number,
)

pytestmark = pytest.mark.browser


def test_a_run_survives_a_reload_and_is_private_to_its_browser_but_for_its_link(app_url: str, page: Any,
                                                                                 browser: Any) -> None:
    open_train(page, f"{app_url}/train")
    set_number(page, "Epochs", "3")
    page.get_by_role("button", name="Start").click()
    expect(page.get_by_text("completed: epoch 3 of 3")).to_be_visible(timeout=60_000)
    owner = next(cookie["value"] for cookie in page.context.cookies() if cookie["name"] == "mtl_owner")

    page.reload()  # a new session of the same browser
    ready(page)
    recent = page.get_by_test_id("stExpander").filter(has_text="Recent runs")
    expect(recent.get_by_text("completed")).to_be_visible(timeout=SETTLE_MS)
    recent.get_by_role("button", name="Show").first.click()
    expect(page.get_by_text("Stored run")).to_be_visible(timeout=SETTLE_MS)
    expect(page.get_by_text("Test metrics")).to_be_visible(timeout=SETTLE_MS)
    assert next(cookie["value"] for cookie in page.context.cookies() if cookie["name"] == "mtl_owner") == owner

    stored = RunStore(default_path())  # the server's store: the tests' MTL_HOME
    [run] = stored.list_runs(owner=owner)
    assert run.status == "completed" and run.epochs_run == 3 and run.source == "dashboard"

    page.goto(f"{app_url}/runs")
    ready(page)
    expect(page.get_by_text("Runs 1–")).to_be_visible(timeout=SETTLE_MS)
    assert run.id in choices(page)

    other = browser.new_context(viewport={"width": 1280, "height": 2000})
    try:
        stranger = other.new_page()
        stranger.goto(f"{app_url}/runs")
        ready(stranger)
        assert run.id not in choices(stranger)
        stranger.goto(f"{app_url}/runs?run={run.id}")
        ready(stranger)
        expect(stranger.get_by_text("Opened by its link: read-only.")).to_be_visible(timeout=SETTLE_MS)
        expect(stranger.get_by_text("Test metrics")).to_be_visible(timeout=SETTLE_MS)
        expect(stranger.get_by_test_id("stException")).to_have_count(0)
    finally:
        other.close()
    expect(page.get_by_test_id("stException")).to_have_count(0)


def choices(page: Any) -> str:
    """The text of every run the Runs page offers to look at (empty when it lists none)."""
    menu = page.get_by_test_id("stMultiSelect").filter(has_text="Runs to look at")
    expect(menu.or_(page.get_by_text("No stored runs yet"))).to_be_visible(timeout=SETTLE_MS)
    if menu.count() == 0:
        return ""
    menu.get_by_role("combobox").click()
    expect(page.get_by_role("option").first).to_be_visible(timeout=SETTLE_MS)
    text = " ".join(page.get_by_role("option").all_inner_texts())
    page.keyboard.press("Escape")
    return text
