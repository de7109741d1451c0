"""The Data page through AppTest: built-in sets, an uploaded table (stored below the page), and its errors."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from mtl_core.config import ExperimentConfig
from mtl_core.data.uploads import save_upload
from tests.app.conftest import open_app

TABLE = b"size;colour;price\n" + b"".join(f"{i};{'red' if i % 3 else 'blue'};{i * 1.5 + 2}\n".encode()
                                          for i in range(80))


def with_config(values: dict[str, object]) -> AppTest:
    """The Data page opened in a session that already edits ``values`` (as after an upload or a preset)."""
    at = open_app()
    at.session_state["config"] = ExperimentConfig.from_dict(values).to_dict()
    at.switch_page("pages/data.py").run()
    assert not at.exception, [item.value for item in at.exception]
    return at


def test_a_built_in_set_shows_its_description_preview_tasks_and_is_ready() -> None:
    at = open_app("pages/data.py")
    at.selectbox(key="data.dataset").select("digits").run()
    assert not at.exception and not at.error
    assert any("handwritten digits" in caption.value for caption in at.caption)
    assert [task["name"] for task in at.session_state["config"]["tasks"]] == ["digit", "parity", "ge5"]
    assert any(item.value.startswith("Ready: 3 tasks") for item in at.success)


def test_a_generated_set_shows_a_form_for_its_own_settings() -> None:
    at = open_app("pages/data.py")
    at.selectbox(key="data.dataset").select("mmoe-synthetic").run()
    at.number_input(key="data.params.correlation").set_value(0.9).run()
    assert not at.exception and at.session_state["config"]["data"]["params"]["correlation"] == 0.9
    assert at.query_params["data.params.correlation"] == "0.9"


def test_an_uploaded_table_gets_a_preview_a_suggested_task_and_trains() -> None:
    path, _ = save_upload("prices.csv", TABLE)
    at = with_config({"data": {"path": str(path)}})
    assert not at.error, [item.value for item in at.error]
    assert at.session_state["config"]["tasks"][0]["column"] == "price"
    assert any("prices.csv" in caption.value for caption in at.caption)
    assert any(item.value.startswith("Ready: 1 tasks") for item in at.success)


def test_a_task_that_does_not_fit_its_column_is_an_error_naming_the_column() -> None:
    path, _ = save_upload("prices.csv", TABLE)
    at = with_config({"data": {"path": str(path)}, "tasks": [{"name": "c", "column": "colour", "kind": "regression"}]})
    assert not at.exception
    assert any("'colour'" in error.value and "regression" in error.value for error in at.error)
    assert not at.success


def test_a_missing_column_is_an_error_and_the_page_keeps_working() -> None:
    at = with_config({"data": {"dataset": "diabetes"}, "tasks": [{"name": "x", "column": "nope"}]})
    assert not at.exception and any("'nope'" in error.value for error in at.error)
    at.selectbox(key="data.dataset").select("tips").run()
    assert not at.exception and not at.error


def test_edited_task_rows_become_tasks_and_a_bad_row_is_named() -> None:
    import pandas as pd
    import pytest

    from mtl_core.errors import ConfigError
    from pages._tasks import tasks_from_rows

    rows = pd.DataFrame([
        {"name": "good", "column": "quality", "kind": "binary", "threshold": 6.0},
        {"name": "band", "column": "quality", "kind": "multiclass", "bins": "5.5, 6.5"},
        {"name": "tercile", "column": "alcohol", "kind": "multiclass", "bins": "3"},
        {"name": "red", "column": "colour", "kind": "binary", "equals": "red"},
        {"name": None, "column": None, "kind": None},  # the editor's empty new row
    ])
    tasks = tasks_from_rows(rows)
    assert [task.name for task in tasks] == ["good", "band", "tercile", "red"]
    assert tasks[1].bins == (5.5, 6.5) and tasks[2].bins == 3 and tasks[3].equals == "red"
    with pytest.raises(ConfigError, match="tasks.0"):
        tasks_from_rows(pd.DataFrame([{"name": "x", "column": "quality", "kind": "regression", "threshold": 6.0}]))
    with pytest.raises(ConfigError, match="no task"):
        tasks_from_rows(pd.DataFrame([{"name": None, "column": None}]))
