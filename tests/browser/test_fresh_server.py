"""A shared link that is the very first request a freshly started server gets still opens the right page and setup.

Streamlit serves a ``pages/`` folder in its older multipage mode until a script run has called
``st.navigation``; this module has its own server, so its first request is the deep link.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.support import app_url, browser, expect, page, ready  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser


def test_a_deep_link_first_on_a_fresh_server_restores_the_setup_and_the_navigation(app_url: str, page: Any) -> None:
    page.goto(f"{app_url}/train?data.dataset=tips&train.epochs=7&train.lr=-1")
    expect(page.get_by_role("heading", name="Train", exact=True)).to_be_visible(timeout=30_000)
    ready(page)
    expect(page.get_by_label("Epochs", exact=True)).to_have_value("7")
    expect(page.get_by_text("**tips**").or_(page.get_by_text("tips", exact=True))).not_to_have_count(0)
    expect(page.get_by_text("Shared link: train.lr")).to_be_visible()
    navigation = page.get_by_test_id("stSidebarNav")
    # Home, Data, Train, Compare, Sweep, Runs, Insight: not one per file
    expect(navigation.get_by_role("link")).to_have_count(7)
    expect(page.get_by_test_id("stException")).to_have_count(0)
