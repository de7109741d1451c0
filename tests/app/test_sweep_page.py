"""The Sweep page through AppTest: two trials on the local backend end in a table with the best highlighted and
parallel coordinates; trials at once past the limit are clamped with a message."""

from __future__ import annotations

import json

from streamlit.testing.v1 import AppTest

from mtl_core import limits
from mtl_core.config import ExperimentConfig
from mtl_core.jobs import job_manager
from tests.app.conftest import open_app, run_to_the_end

SMALL = ExperimentConfig.from_dict({"data": {"dataset": "diabetes"}, "model": {"hidden": [4]},
                                    "train": {"epochs": 2}})


def small_sweep_page() -> AppTest:
    at = open_app()
    at.session_state["config"] = SMALL.to_dict()
    at.switch_page("pages/sweep.py").run()
    assert not at.exception, [item.value for item in at.exception]
    return at


def test_a_two_trial_sweep_shows_its_trials_the_best_and_parallel_coordinates() -> None:
    at = small_sweep_page()
    at.multiselect(key="sweep.strategies").set_value(["equal"]).run()
    at.text_input(key="sweep.hidden").input("4; 6").run()
    at.number_input(key="sweep.concurrent").set_value(1).run()  # one worker process trains both
    assert at.selectbox(key="sweep.metric").value == "val.progression.mse"
    at.button(key="sweep.start").click().run()
    current = run_to_the_end(at, "sweep_job_id")

    assert not at.exception and not at.error, [item.value for item in at.error]
    assert job_manager().status(current) == "completed"
    table = at.dataframe[0].value
    assert table["model.hidden"].tolist() == ["[4]", "[6]"] and table["status"].tolist() == ["completed"] * 2
    assert "Best: trial" in at.success[0].value
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert spec["data"][0]["type"] == "parcoords"
    group = job_manager().snapshot(current).group_id
    assert group is not None and job_manager().store is not None
    assert len(job_manager().store.get_group(group).runs) == 2  # type: ignore[union-attr]


def test_trials_at_once_past_the_limit_are_clamped_with_a_message() -> None:
    at = small_sweep_page()
    at.number_input(key="sweep.concurrent").set_value(limits.MAX_CONCURRENT_TRIALS + 5).run()
    assert not at.exception
    assert any("MTL_MAX_CONCURRENT_TRIALS" in item.value for item in at.warning)


def test_a_bad_hidden_layer_list_is_one_message_naming_the_key() -> None:
    at = small_sweep_page()
    at.text_input(key="sweep.hidden").input("4; wide").run()
    at.button(key="sweep.start").click().run()
    assert not at.exception and "model.hidden" in at.error[0].value
