"""Insight page: a run's training diagnostics (cosine heat map, conflict, affinity, gates), and the toy race
(CAGrad, Liu et al., 2021, §5) drawn as a figure and a table of end points.

The page is not in the entry file's navigation yet, so each test opens it through a small entry of its own
that sets up the same navigation context (``pages._entry.entering``) with this page alone.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from mtl_core.jobs import job_manager

PAGE = Path(__file__).resolve().parents[2] / "pages" / "insight.py"
ENTRY = """
import streamlit as st
from pages._entry import entering

navigation = st.navigation([st.Page({page!r}, title="Insight", default=True)])
with entering():
    navigation.run()
"""


@pytest.fixture
def page(tmp_path: Path) -> AppTest:
    """The page as it opens: the training diagnostics view."""
    entry = tmp_path / "entry.py"
    entry.write_text(ENTRY.format(page=str(PAGE)), encoding="utf-8")
    app = AppTest.from_file(str(entry), default_timeout=60).run()
    assert not app.exception, [item.value for item in app.exception]
    return app


@pytest.fixture
def at(page: AppTest) -> AppTest:
    """The toy landscape view."""
    page.button_group(key="insight.view").set_value("Toy landscape").run()
    assert not page.exception, [item.value for item in page.exception]
    return page


def test_a_diagnostics_run_started_on_the_page_draws_its_cosine_heat_map(page: AppTest) -> None:
    page.selectbox(key="insight.example").set_value("mmoe-unrelated")
    page.number_input(key="insight.epochs").set_value(2)
    page.button(key="insight.start").click().run()
    assert not page.exception and not page.error, [item.value for item in [*page.exception, *page.error]]
    assert job_manager().wait(page.session_state["job_id"], timeout=60), "the run did not end in time"
    page.run()
    assert not page.exception, [item.value for item in page.exception]
    charts = page.get("plotly_chart")
    assert len(charts) >= 5  # cosine, conflict, norms, affinity, gates (the tabs all draw)
    captions = " ".join(caption.value for caption in page.caption)
    assert "opposite directions in" in captions and "leans most on expert" in captions
    assert page.slider(key="insight.epoch").value == 2


def test_defaults_are_the_papers_methods_and_starts(at: AppTest) -> None:
    assert at.multiselect(key="insight.strategies").value == ["equal", "mgda", "pcgrad", "cagrad"]
    assert at.text_input(key="insight.starts").value == "-8.5, 7.5; -8.5, -5; 9, 9"
    assert at.number_input(key="insight.steps").value == 100_000 and at.number_input(key="insight.lr").value == 0.001
    assert "gradnorm" not in at.multiselect(key="insight.strategies").options
    assert not at.get("plotly_chart") and at.info


def test_run_draws_the_race_and_a_table_of_end_points(at: AppTest) -> None:
    at.multiselect(key="insight.strategies").set_value(["equal", "cagrad"])
    at.number_input(key="insight.steps").set_value(30)
    at.button(key="insight.run").click().run()
    assert not at.exception and not at.error, [item.value for item in at.exception]
    assert len(at.get("plotly_chart")) == 1
    table = at.dataframe[0].value  # AppTest does not expose a data frame's key
    assert list(table["strategy"]) == ["equal"] * 3 + ["cagrad"] * 3
    assert {"end x1", "end x2", "to the middle", "to the Pareto set"} <= set(table.columns)
    assert any("Pareto set" in caption.value for caption in at.caption)
    at.run()  # another run of the page (any widget) keeps the race on screen
    assert len(at.get("plotly_chart")) == 1


def test_starts_that_cannot_be_read_are_an_error_and_nothing_runs(at: AppTest) -> None:
    at.text_input(key="insight.starts").set_value("1, 2; three").run()
    assert at.error and "x1, x2; x1, x2" in at.error[0].value
    assert at.button(key="insight.run").disabled
