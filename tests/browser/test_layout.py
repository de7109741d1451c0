"""The Train page's layout in a real browser at 1400 × 900: Start and the live chart in view together, the
Copy link button that copies, and a page that asks no font server for its icon."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.support import (  # noqa: F401  (app_url and browser are fixtures)
    SETTLE_MS, app_url, browser, expect, open_train, ready, set_number,
)

pytestmark = pytest.mark.browser

WIDTH, HEIGHT = 1400, 900  # a laptop's browser window


@pytest.fixture
def laptop(browser: Any) -> Iterator[Any]:
    """A page in a 1400 × 900 window of its own session, allowed to use the clipboard; closed afterwards."""
    context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT},
                                  permissions=["clipboard-read", "clipboard-write"])
    yield context.new_page()
    context.close()


def in_view(locator: Any) -> bool:
    """Whether the element lies entirely inside the window without scrolling."""
    box = locator.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= HEIGHT and box["x"] + box["width"] <= WIDTH


def test_start_and_the_loss_chart_are_in_view_together_before_and_after_a_run(app_url: str, laptop: Any) -> None:
    open_train(laptop, f"{app_url}/train")
    start = laptop.get_by_role("button", name="Start", exact=True)
    chart = laptop.get_by_test_id("stPlotlyChart").filter(has_text="Loss by epoch")
    expect(chart).to_be_visible(timeout=SETTLE_MS)
    assert in_view(start) and in_view(chart), (start.bounding_box(), chart.bounding_box())

    set_number(laptop, "Epochs", "3")
    start.click()
    expect(laptop.get_by_text("completed: epoch 3 of 3")).to_be_visible(timeout=60_000)
    expect(chart.locator(".scatterlayer .trace")).to_have_count(4, timeout=SETTLE_MS)  # 2 tasks × train, val
    assert laptop.evaluate("window.scrollY") == 0
    assert in_view(start) and in_view(chart), (start.bounding_box(), chart.bounding_box())
    expect(laptop.get_by_test_id("stException")).to_have_count(0)


def test_one_click_on_copy_link_puts_the_link_on_the_clipboard_and_says_so(app_url: str, laptop: Any) -> None:
    open_train(laptop, f"{app_url}/train")
    set_number(laptop, "Epochs", "7")
    expect(laptop).to_have_url(re.compile(r"train\.epochs=7"), timeout=SETTLE_MS)
    button = laptop.frame_locator("iframe").get_by_role("button", name="Copy link")
    expect(button).to_be_visible(timeout=SETTLE_MS)
    button.click()
    expect(laptop.frame_locator("iframe").get_by_text("Link copied")).to_be_visible()
    copied = laptop.evaluate("navigator.clipboard.readText()")
    assert copied.startswith(f"{app_url}/train?") and "train.epochs=7" in copied


def test_no_page_asks_a_font_server_for_its_icon(app_url: str, laptop: Any) -> None:
    asked: list[str] = []
    laptop.on("request", lambda request: asked.append(request.url))
    laptop.goto(app_url)
    expect(laptop.get_by_text("Start from a preset")).to_be_visible(timeout=30_000)
    ready(laptop)
    open_train(laptop, f"{app_url}/train")
    icon = laptop.locator("link[rel='shortcut icon']")
    expect(icon).to_have_attribute("href", re.compile(r"^data:image/svg\+xml"))
    assert not [url for url in asked if not url.startswith(app_url) and not url.startswith("data:")], asked
