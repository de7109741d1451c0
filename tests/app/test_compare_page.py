"""The Compare page through AppTest: a two-seed comparison with its table, Δm%, verdicts, bars and Pareto plot."""

from __future__ import annotations

import json

from streamlit.testing.v1 import AppTest

from mtl_core.compare.settings import ComparisonSettings
from mtl_core.config import ExperimentConfig
from mtl_core.jobs import job_manager
from tests.app.conftest import open_app, run_to_the_end

SMALL = ExperimentConfig.from_dict({"data": {"dataset": "diabetes"}, "model": {"hidden": [8]},
                                    "train": {"epochs": 3}})


def small_compare_page() -> AppTest:
    at = open_app()
    at.session_state["config"] = SMALL.to_dict()
    at.switch_page("pages/compare.py").run()
    assert not at.exception
    return at


def test_a_two_seed_comparison_shows_the_table_delta_m_verdicts_bars_and_pareto() -> None:
    at = small_compare_page()
    at.multiselect(key="compare.strategies").set_value(["equal", "uncertainty"]).run()
    at.number_input(key="compare.seeds").set_value(2).run()
    at.number_input(key="compare.points").set_value(3).run()
    assert at.query_params["compare.seeds"] == "2"
    at.button(key="compare.start").click().run()
    current = run_to_the_end(at, "compare_job_id")

    assert not at.exception and not at.error
    assert job_manager().status(current) == "completed"
    assert "completed: 12 of 12 runs" in at.get("progress")[0].proto.text
    table = at.dataframe[0].value
    assert table.index.tolist() == ["stl", "equal", "uncertainty"]
    assert table.columns.tolist() == ["progression", "high_progression"]
    text = " ".join(item.value for item in at.markdown)
    assert "**equal**: on average" in text and "than training each task alone" in text and "Δm% =" in text
    assert "multi-task" in text  # the verdicts, in words
    titles = [json.loads(chart.proto.spec)["layout"]["title"]["text"] for chart in at.get("plotly_chart")]
    assert len(titles) == 2 and any("Pareto" in title or "weight" in title.lower() for title in titles)


def test_comparison_settings_travel_in_the_link() -> None:
    wanted = ComparisonSettings(strategies=("equal", "gradnorm"), seeds=3, points=0)
    at = open_app(query={**wanted.to_query(), "compare.seeds": "3"})
    at.switch_page("pages/compare.py").run()
    assert at.multiselect(key="compare.strategies").value == ["equal", "gradnorm"]
    assert at.number_input(key="compare.seeds").value == 3 and at.number_input(key="compare.points").value == 0


def test_a_bad_comparison_link_warns_and_uses_the_nearest_settings() -> None:
    at = open_app(query={"compare.seeds": "500", "compare.strategies": "equal,pcgard"})
    warnings = " ".join(item.value for item in at.warning)
    assert "compare.seeds" in warnings and "pcgard" in warnings and not at.exception
    at.switch_page("pages/compare.py").run()
    assert at.number_input(key="compare.seeds").value == 20
    assert at.multiselect(key="compare.strategies").value == ["equal", "pcgrad"]


def test_two_seeds_come_with_a_caution_beside_the_verdicts() -> None:
    at = small_compare_page()
    at.number_input(key="compare.seeds").set_value(2).run()
    at.number_input(key="compare.points").set_value(0).run()
    at.button(key="compare.start").click().run()
    run_to_the_end(at, "compare_job_id")
    assert not at.exception and not at.error
    assert any(warning.value.startswith("2 seeds are weak evidence") for warning in at.warning)
    verdicts = [item.value for item in at.markdown if item.value.startswith("- **")]
    assert len(verdicts) == 2 and all("Only 2 seeds: weak evidence" in text and "`" not in text for text in verdicts)
    assert verdicts[0].startswith("- **progression** · *equal*: ")


def test_a_one_task_experiment_cannot_be_compared_and_says_why() -> None:
    at = open_app()
    at.session_state["config"] = ExperimentConfig.from_dict({
        "data": {"dataset": "diabetes"}, "tasks": [{"name": "progression", "column": "progression"}]}).to_dict()
    at.switch_page("pages/compare.py").run()
    assert not at.exception and at.button(key="compare.start").disabled
    assert any("one task" in warning.value and "Data" in warning.value for warning in at.warning)
