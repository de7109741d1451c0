"""The Data page through AppTest: built-in sets, uploaded tables, the columns to predict, the task rows, the charts."""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from mtl_core.config import ExperimentConfig
from mtl_core.data.uploads import save_upload
from mtl_core.errors import ConfigError
from pages._tasks import editor_id, picker_key, tasks_from_rows
from mtl_core.jobs import job_manager
from tests.app.conftest import open_app

TABLE = b"size;colour;price\n" + b"".join(f"{i};{'red' if i % 3 else 'blue'};{i * 1.5 + 2}\n".encode()
                                          for i in range(80))


def linnerud_like(rows: int = 20, seed: int = 0) -> bytes:
    """Three exercise counts and three body measurements (whole numbers written as floats, as scikit-learn's
    load_linnerud frame writes them), with 9 to 16 distinct values per measurement."""
    generator = np.random.default_rng(seed)
    chins, situps, jumps = (generator.integers(low, high, rows) for low, high in ((1, 17), (50, 250), (25, 250)))
    table = pd.DataFrame({
        "Chins": chins, "Situps": situps, "Jumps": jumps,
        "Weight": (150 + 2 * chins + generator.integers(0, 40, rows)).astype(float),
        "Waist": (30 + situps // 40 + generator.integers(0, 5, rows)).astype(float),
        "Pulse": (46 + jumps // 25 + generator.integers(0, 8, rows)).astype(float),
    })
    return table.to_csv(index=False, float_format="%.1f").encode()


def upload(at: AppTest, name: str, payload: bytes) -> AppTest:
    """Upload ``payload`` as the user's file ``name`` (the uploader is on the page from the start)."""
    at.file_uploader(key="data.upload").upload(name, payload, "text/csv").run()
    assert not at.exception, [item.value for item in at.exception]
    return at


def tasks_of(at: AppTest) -> list[tuple[str, str, str, str]]:
    return [(task["name"], task["column"], task["kind"], task["loss"]) for task in at.session_state["config"]["tasks"]]


def targets(at: AppTest) -> Any:
    """The columns to predict of the table the session edits: buttons (pills), or a menu for a wide table."""
    key = picker_key(ExperimentConfig.from_dict(at.session_state["config"]).data.source)
    pills = [element for element in at.pills if element.key == key]
    return pills[0] if pills else at.multiselect(key=key)


def edit_tasks(at: AppTest, edited_rows: dict[int, dict[str, Any]] | None = None,
               added_rows: list[dict[str, Any]] | None = None) -> AppTest:
    """Edit the task table as a user would in the grid (AppTest sets the editor's edit state), then rerun."""
    source = ExperimentConfig.from_dict(at.session_state["config"]).data.source
    at.session_state[f"data.tasks.{editor_id(source)}"] = {
        "edited_rows": edited_rows or {}, "added_rows": added_rows or [], "deleted_rows": []}
    at.run()
    assert not at.exception, [item.value for item in at.exception]
    return at


def ready(at: AppTest) -> list[str]:
    return [item.value for item in at.success if item.value.startswith("Ready")]


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


def test_a_generated_size_past_the_cell_limit_is_lowered_in_the_form_with_a_warning_naming_the_limit() -> None:
    from mtl_core import limits

    at = open_app("pages/data.py")
    at.selectbox(key="data.dataset").select("mmoe-synthetic").run()
    at.number_input(key="data.params.n_features").set_value(1_000).run()
    at.number_input(key="data.params.n_rows").set_value(1_000_000).run()
    assert not at.exception and not at.error
    shown = [item.value.replace("\\", "") for item in at.warning]  # as written, without Markdown escapes
    assert any("MTL_MAX_CELLS" in text and "using n_rows = 5000" in text for text in shown), shown
    params = at.session_state["config"]["data"]["params"]
    assert params["n_rows"] * params["n_features"] <= limits.MAX_CELLS and params["n_features"] == 1_000


def test_an_uploaded_table_gets_a_preview_a_suggested_task_and_trains() -> None:
    path, _ = save_upload("prices.csv", TABLE)
    at = with_config({"data": {"path": str(path)}})
    assert not at.error, [item.value for item in at.error]
    assert at.session_state["config"]["tasks"][0]["column"] == "price"
    assert any("prices.csv" in caption.value for caption in at.caption)
    assert ready(at) and ready(at)[0].startswith("Ready: 1 task,")


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
    with pytest.raises(ConfigError, match=r"task row 2 \('x'\), threshold"):
        tasks_from_rows(pd.DataFrame([{"name": None, "column": None},
                                      {"name": "x", "column": "quality", "kind": "regression", "threshold": 6.0}]))
    with pytest.raises(ConfigError, match="no task"):
        tasks_from_rows(pd.DataFrame([{"name": None, "column": None}]))


def test_a_row_with_only_a_column_is_a_task_named_after_it_with_the_suggested_kind() -> None:
    (task,) = tasks_from_rows(pd.DataFrame([{"name": None, "column": "Pulse", "kind": None}]), {"Pulse": "regression"})
    assert (task.name, task.kind, task.loss) == ("Pulse", "regression", "mse")


def test_a_new_upload_suggests_regression_for_a_body_measurement() -> None:
    at = upload(open_app("pages/data.py"), "linnerud.csv", linnerud_like())
    assert tasks_of(at) == [("Pulse", "Pulse", "regression", "mse")]
    assert ready(at) == ["Ready: 1 task, 14 training rows."]


def test_picking_three_targets_in_one_menu_makes_three_tasks_and_the_rest_inputs() -> None:
    at = upload(open_app("pages/data.py"), "linnerud.csv", linnerud_like())
    targets(at).select("Weight").select("Waist").run()
    assert not at.exception and not at.error, [item.value for item in at.error]
    assert tasks_of(at) == [("Pulse", "Pulse", "regression", "mse"), ("Weight", "Weight", "regression", "mse"),
                            ("Waist", "Waist", "regression", "mse")]
    assert targets(at).value == ["Pulse", "Weight", "Waist"]
    assert at.session_state["config"]["data"]["features"] is None  # every other column is an input
    columns = at.data_editor(key="data.columns").value.set_index("column")
    assert columns["input"].to_dict() == {"Chins": True, "Situps": True, "Jumps": True,
                                          "Weight": False, "Waist": False, "Pulse": False}
    assert ready(at) == ["Ready: 3 tasks, 14 training rows."]


def test_dropping_a_target_drops_its_tasks_and_keeps_the_others_as_edited() -> None:
    at = upload(open_app("pages/data.py"), "linnerud.csv", linnerud_like())
    targets(at).select("Weight").run()
    edit_tasks(at, edited_rows={0: {"loss": "l1"}})
    assert tasks_of(at)[0] == ("Pulse", "Pulse", "regression", "l1")
    targets(at).unselect("Weight").run()
    assert tasks_of(at) == [("Pulse", "Pulse", "regression", "l1")]
    assert targets(at).value == ["Pulse"]


def test_a_derived_task_added_in_the_table_shows_in_the_menu_of_targets() -> None:
    at = upload(open_app("pages/data.py"), "linnerud.csv", linnerud_like())
    edit_tasks(at, added_rows=[{"name": "heavy", "column": "Weight", "kind": "binary", "threshold": 180.0,
                                 "standardize": False}])
    assert [task[0] for task in tasks_of(at)] == ["Pulse", "heavy"]
    assert targets(at).value == ["Pulse", "Weight"]


def test_a_picked_column_whose_name_a_task_already_has_gets_a_task_of_its_own() -> None:
    at = upload(open_app("pages/data.py"), "linnerud.csv", linnerud_like())
    edit_tasks(at, edited_rows={0: {"name": "Weight"}})  # the task on Pulse is called Weight
    targets(at).select("Weight").run()
    assert [task[:2] for task in tasks_of(at)] == [("Weight", "Pulse"), ("Weight 2", "Weight")]


def test_a_binary_and_a_multiclass_target_are_guessed_from_their_values() -> None:
    generator = np.random.default_rng(1)
    table = pd.DataFrame({"x1": generator.normal(size=120), "x2": generator.normal(size=120),
                          "smoker": generator.choice(["yes", "no"], 120), "grade": generator.integers(1, 4, 120)})
    at = upload(open_app("pages/data.py"), "patients.csv", table.to_csv(index=False).encode())
    targets(at).select("smoker").run()
    assert tasks_of(at) == [("grade", "grade", "multiclass", "cross_entropy"), ("smoker", "smoker", "binary", "bce")]
    assert ready(at) and ready(at)[0].startswith("Ready: 2 tasks")


def test_a_half_filled_task_row_says_why_it_is_not_a_task() -> None:
    at = upload(open_app("pages/data.py"), "linnerud.csv", linnerud_like())
    edit_tasks(at, added_rows=[{"name": "Weight", "standardize": False}, {"kind": "regression", "standardize": False}])
    warnings = [item.value for item in at.warning]
    assert any(text.startswith("Task row 2 ('Weight') is not a task yet: it names no column") for text in warnings)
    assert any(text.startswith("Task row 3 is not a task yet") for text in warnings)
    assert ready(at) == ["Ready: 1 task, 14 training rows."]


def test_changing_a_kind_brings_that_kinds_loss() -> None:
    at = upload(open_app("pages/data.py"), "linnerud.csv", linnerud_like(rows=200))
    edit_tasks(at, edited_rows={0: {"kind": "multiclass"}})
    assert not at.error, [item.value for item in at.error]
    assert tasks_of(at) == [("Pulse", "Pulse", "multiclass", "cross_entropy")]
    edit_tasks(at, edited_rows={0: {"kind": "regression"}})
    assert not at.error, [item.value for item in at.error]
    assert tasks_of(at) == [("Pulse", "Pulse", "regression", "mse")]


def test_an_explicit_loss_that_fits_the_new_kind_is_kept() -> None:
    at = upload(open_app("pages/data.py"), "linnerud.csv", linnerud_like())
    edit_tasks(at, edited_rows={0: {"loss": "smooth_l1"}})
    edit_tasks(at, edited_rows={0: {"standardize": True}})
    assert tasks_of(at) == [("Pulse", "Pulse", "regression", "smooth_l1")]


def test_uploading_the_table_of_a_shared_link_keeps_the_links_tasks() -> None:
    link = {"tasks.0.name": "weight", "tasks.0.column": "Weight", "tasks.1.name": "waist", "tasks.1.column": "Waist",
            "tasks.1.loss": "l1", "tasks.2.name": "pulse", "tasks.2.column": "Pulse"}
    at = open_app("pages/data.py", query=link)
    upload(at, "linnerud.csv", linnerud_like())
    assert tasks_of(at) == [("weight", "Weight", "regression", "mse"), ("waist", "Waist", "regression", "l1"),
                            ("pulse", "Pulse", "regression", "mse")]
    assert ready(at) and ready(at)[0].startswith("Ready: 3 tasks")


def test_a_link_made_on_an_uploaded_file_opens_the_data_page_at_the_upload() -> None:
    link = {"data.path": "/elsewhere/linnerud.csv", "tasks.0.name": "weight", "tasks.0.column": "Weight"}
    at = open_app("pages/data.py", query=link)
    assert any("upload the same file" in item.value for item in at.info)
    assert not at.error, [item.value for item in at.error]
    assert "data.dataset" not in [box.key for box in at.selectbox]  # the upload is awaited, not a built-in set
    upload(at, "linnerud.csv", linnerud_like())
    assert tasks_of(at) == [("weight", "Weight", "regression", "mse")]


def test_an_upload_is_shown_by_its_own_name_and_errors_never_show_the_server_path() -> None:
    at = upload(open_app("pages/data.py"), "my prices.csv", TABLE)  # stored as <hash>-my_prices.csv
    targets(at).select("colour").run()
    edit_tasks(at, edited_rows={1: {"kind": "regression"}})
    stored = ExperimentConfig.from_dict(at.session_state["config"]).data.path
    errors = [item.value for item in at.error]
    assert any("'colour' (row 1 of my prices.csv)" in text and "regression" in text for text in errors), errors
    texts = errors + [item.value for item in (*at.caption, *at.success, *at.warning)]
    assert stored is not None and not any(stored in text or "uploads" in text for text in texts)
    assert not any(re.search(r"[0-9a-f]{16}-my", text) for text in texts)


def test_the_page_draws_the_distributions_and_the_targets_against_an_input_with_altair() -> None:
    at = upload(open_app("pages/data.py"), "linnerud.csv", linnerud_like())
    targets(at).select("Weight").select("Waist").run()
    charts = [json.loads(chart.proto.spec) for chart in at.get("vega_lite_chart")]
    assert len(charts) == 2
    assert [panel["title"] for panel in charts[0]["concat"]][:3] == ["Pulse", "Weight", "Waist"]
    assert len(charts[0]["concat"]) == 6
    assert [panel["title"] for panel in charts[1]["concat"]] == [
        "Pulse: Pulse against Chins", "Weight: Weight against Chins", "Waist: Waist against Chins"]
    assert charts[1]["concat"][0]["encoding"]["color"]["field"] == "split"  # the tasks are ready: the split is known
    at.selectbox(key="data.scatter_input").select("Jumps").run()
    scatter = json.loads(at.get("vega_lite_chart")[1].proto.spec)
    assert scatter["concat"][0]["title"] == "Pulse: Pulse against Jumps"


def test_the_uploader_is_on_the_page_beside_the_menu_with_no_choice_to_make_first() -> None:
    at = open_app("pages/data.py")
    assert at.file_uploader(key="data.upload") is not None and at.selectbox(key="data.dataset").value == "diabetes"
    at.file_uploader(key="data.upload").upload("prices.csv", TABLE, "text/csv").run()
    assert not at.exception and "data.dataset" not in [box.key for box in at.selectbox]
    assert tasks_of(at) == [("price", "price", "regression", "mse")]


def test_train_now_starts_the_run_and_opens_train_on_it() -> None:
    at = upload(open_app("pages/data.py"), "prices.csv", TABLE)
    at.button(key="data.train_now").click().run()
    assert not at.exception, [item.value for item in at.exception]
    assert at.session_state["job_id"] is not None and at.title[0].value == "Train"  # Train shows the run
    assert job_manager().wait(at.session_state["job_id"], timeout=60)
    assert job_manager().status(at.session_state["job_id"]) == "completed"


def test_going_back_from_an_upload_to_the_built_in_sets() -> None:
    path, _ = save_upload("prices.csv", TABLE)
    at = with_config({"data": {"path": str(path)}})
    at.button(key="data.built_in").click().run()
    assert not at.exception
    config = ExperimentConfig.from_dict(at.session_state["config"])
    assert config.data.path is None and config.data.source == "diabetes" and config.tasks[0].column == "progression"


def test_a_narrow_table_shows_its_columns_as_buttons_and_a_wide_one_as_a_menu() -> None:
    at = upload(open_app("pages/data.py"), "linnerud.csv", linnerud_like())
    assert [element.key for element in at.pills] == [targets(at).key] and len(at.pills[0].options) == 6
    wide = pd.DataFrame({f"x{i}": np.arange(40) * (i + 1) % 7 for i in range(30)}).to_csv(index=False).encode()
    at = upload(at, "wide.csv", wide)
    assert not at.pills and targets(at).value == ["x29"]


def test_an_image_set_lists_its_table_columns_as_labels_never_inputs() -> None:
    at = open_app("pages/data.py")
    at.selectbox(key="data.dataset").select("cells-synthetic").run()
    assert not at.exception and not at.error, [item.value for item in at.error]
    columns = next(frame.value for frame in at.dataframe if "role" in frame.value.columns)
    assert dict(zip(columns["column"], columns["role"], strict=True)) == {
        "hours_since_start": "label only, never an input", "infected": "task", "time": "task"}
    assert "input" not in columns.columns
    assert any("reads the images" in caption.value for caption in at.caption)


def test_a_label_column_of_a_table_set_is_never_offered_as_an_input() -> None:
    at = open_app("pages/data.py")
    at.selectbox(key="data.dataset").select("digits").run()
    assert not at.exception
    columns = at.data_editor(key="data.columns").value
    roles = dict(zip(columns["column"], columns["role"], strict=True))
    offered = dict(zip(columns["column"], columns["input"], strict=True))
    assert roles["digit"] == "task" and roles["pixel_3_4"] == "input" and offered["pixel_3_4"]
    assert roles["parity"] == "task"  # a default task; dropped from the targets it is a label, not an input
    targets(at).unselect("parity").run()
    columns = at.data_editor(key="data.columns").value
    assert dict(zip(columns["column"], columns["role"], strict=True))["parity"] == "label only, never an input"
    assert not dict(zip(columns["column"], columns["input"], strict=True))["parity"]


def test_a_text_input_with_too_many_categories_is_capped_and_the_page_says_so() -> None:
    rows = [f"{i},{'city' + str(i)},{i * 0.5}" for i in range(200)]  # 200 distinct cities: past MTL_MAX_CATEGORIES
    at = upload(open_app("pages/data.py"), "towns.csv", ("n,city,price\n" + "\n".join(rows)).encode())
    assert ready(at), [item.value for item in at.error]
    assert any("city" in item.value and "other" in item.value for item in at.warning), [w.value for w in at.warning]
