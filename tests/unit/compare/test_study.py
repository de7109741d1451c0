"""A study trains each method once and gives the same summaries as compare and pareto run separately."""

from __future__ import annotations

from mtl_core.compare import compare, pareto, study, study_runs
from mtl_core.config import ExperimentConfig

CONFIG = ExperimentConfig.from_dict({
    "data": {"dataset": "diabetes"}, "model": {"hidden": [8]}, "train": {"epochs": 3, "lr": 0.01},
})


def test_a_study_equals_compare_and_pareto_and_trains_each_method_once() -> None:
    calls: list[int] = []
    result = study(CONFIG, seeds=2, strategies=["equal", "dwa"], points=3,
                   on_progress=lambda done, total, label: calls.append(total))
    assert set(calls) == {study_runs(CONFIG, 2, ["equal", "dwa"], 3)} == {(1 + 2 + 3) * 2}
    alone = compare(CONFIG, seeds=2, strategies=["equal", "dwa"])
    front = pareto(CONFIG, points=3, seeds=2, strategies=["equal", "dwa"])
    for task in ("progression", "high_progression"):
        assert result["comparison"]["tasks"][task]["results"] == alone["tasks"][task]["results"]
    assert result["comparison"]["delta_m_percent"] == alone["delta_m_percent"]
    assert [point["tasks"] for point in result["pareto"]["points"]] == [point["tasks"] for point in front["points"]]
    assert result["pareto"]["strategies"] == front["strategies"]


def test_no_sweep_without_points_or_for_four_tasks() -> None:
    assert study(CONFIG, seeds=1, points=None)["pareto"] is None
    tips = ExperimentConfig.from_dict({"data": {"dataset": "tips"}, "model": {"hidden": [4]}, "train": {"epochs": 2}})
    assert study(tips, seeds=1, points=3)["pareto"] is None
