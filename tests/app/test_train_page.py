"""The Train page through AppTest, from the entry file: start a short run, see its curves and metrics."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from mtl_core.data import uci
from mtl_core.jobs import job_manager

APP = str(Path(__file__).resolve().parents[2] / "app.py")  # AppTest resolves relative paths from the caller
TIMEOUT = 60.0


def open_train_page() -> AppTest:
    """The app, switched to the Train page and run once."""
    at = AppTest.from_file(APP, default_timeout=30).run()
    at.switch_page("pages/train.py").run()
    assert not at.exception
    return at


def run_to_the_end(at: AppTest) -> str:
    """Wait for the session's job to end, then rerun the page (AppTest does not tick run_every fragments)."""
    current = at.session_state["job_id"]
    assert job_manager().wait(current, timeout=TIMEOUT), "the job did not end in time"
    at.run()
    return str(current)


def test_the_page_opens_on_diabetes_with_its_description() -> None:
    at = open_train_page()
    assert at.selectbox(key="train.dataset").value == "diabetes"
    assert any("442 diabetes patients" in caption.value for caption in at.caption)
    assert at.button(key="train.stop").disabled


def test_a_short_run_shows_loss_curves_metrics_and_predictions() -> None:
    at = open_train_page()
    at.number_input(key="train.epochs").set_value(3)
    at.button(key="train.start").click().run()
    assert not at.exception and not at.error
    job_id = run_to_the_end(at)

    assert not at.exception and not at.error
    assert job_manager().status(job_id) == "completed"
    assert "completed: epoch 3 of 3" in at.get("progress")[0].proto.text
    charts = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
    loss = next(chart for chart in charts if chart["layout"]["title"]["text"].startswith("Loss by epoch"))
    assert {trace["name"] for trace in loss["data"]} >= {"progression (train)", "high_progression (val)"}
    assert all(len(trace["x"]) == 3 for trace in loss["data"])
    assert any("progression: predicted vs true" in chart["layout"]["title"]["text"] for chart in charts)
    table = at.dataframe[0].value
    assert table.index.tolist() == ["progression", "high_progression"] and "r2" in table.columns
    assert not at.button(key="train.start").disabled and at.button(key="train.stop").disabled


def test_stop_ends_the_run_and_keeps_its_curve_and_evaluation() -> None:
    at = open_train_page()
    at.number_input(key="train.epochs").set_value(5000)
    at.button(key="train.start").click().run()
    current = at.session_state["job_id"]
    assert job_manager().wait_for_events(current, 3, timeout=TIMEOUT)  # RunStarted and two epochs
    at.button(key="train.stop").click().run()
    run_to_the_end(at)

    assert not at.exception and job_manager().status(current) == "stopped"
    assert at.get("progress")[0].proto.text.startswith("stopped: epoch ")
    assert any("stopped by the user" in info.value for info in at.info)
    assert at.get("plotly_chart") and at.dataframe[0].value.shape[0] == 2


def test_a_data_set_that_cannot_be_loaded_is_shown_as_an_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def offline(url: str, target: Path, sha256: str | None = None) -> Path:
        raise OSError("network is unreachable")

    monkeypatch.setenv("MTL_DATA_DIR", str(tmp_path))  # an empty folder, and no download: wine-red is missing
    monkeypatch.setattr(uci, "fetch", offline)
    at = open_train_page()
    at.selectbox(key="train.dataset").select("wine-red").run()
    assert any("Vinho Verde" in caption.value for caption in at.caption)
    at.button(key="train.start").click().run()
    assert not at.exception
    assert [error.value for error in at.error] and "winequality-red.csv is not available" in at.error[0].value
    assert "job_id" not in at.session_state
