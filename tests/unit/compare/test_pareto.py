"""The static-weight sweep: weights on the simplex, non-dominated points, strategies placed beside the front."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mtl_core.compare import dominates, non_dominated, pareto, sweep_weights
from mtl_core.config import ExperimentConfig, load_config
from mtl_core.errors import ConfigError

DIABETES = Path(__file__).resolve().parents[3] / "examples" / "diabetes.toml"
THIRD_TASK = ["tasks.2.name=band", "tasks.2.column=progression", "tasks.2.kind=multiclass", "tasks.2.bins=3"]


def small_config(*overrides: str) -> ExperimentConfig:
    return load_config(DIABETES, ["train.epochs=2", "train.device=cpu", *overrides])


@pytest.mark.parametrize("points", [1, 2, 5, 7])
def test_two_tasks_give_k_points_along_the_segment_summing_to_two(points: int) -> None:
    weights = sweep_weights(2, points)
    assert len(weights) == points and all(sum(point) == pytest.approx(2.0) for point in weights)
    assert all(min(point) > 0 for point in weights)  # no task is left untrained
    assert [point[0] for point in weights] == sorted(point[0] for point in weights)


def test_equal_weighting_is_on_the_segment_for_an_odd_count() -> None:
    assert (1.0, 1.0) in sweep_weights(2, 7) and sweep_weights(2, 7)[0] == (0.25, 1.75)


def test_three_tasks_give_a_barycentric_grid_summing_to_three() -> None:
    weights = sweep_weights(3, 5)  # shares i/6 with i >= 1: 10 points, (2, 2, 2)/6 among them
    assert len(weights) == 5 * 4 // 2 == len(set(weights))
    assert all(sum(point) == pytest.approx(3.0) and min(point) > 0 for point in weights)
    assert (1.0, 1.0, 1.0) in weights and (0.5, 0.5, 2.0) in weights


@pytest.mark.parametrize(("tasks", "points", "words"), [(4, 5, "4 tasks"), (1, 5, "1 task;"), (3, 1, "at least 2"),
                                                        (2, 0, "at least 1")])
def test_sweeps_outside_two_or_three_tasks_are_refused(tasks: int, points: int, words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        sweep_weights(tasks, points)


def test_domination_follows_each_metrics_direction() -> None:
    lower_then_higher = [False, True]
    assert dominates([0.4, 0.8], [0.5, 0.7], lower_then_higher)
    assert not dominates([0.5, 0.7], [0.4, 0.8], lower_then_higher)
    assert not dominates([0.4, 0.8], [0.4, 0.8], lower_then_higher)  # equal is not better
    assert not dominates([0.4, None], [0.5, 0.7], lower_then_higher)
    assert non_dominated([[0.4, 0.7], [0.5, 0.8], [0.5, 0.7], [None, 0.9]], lower_then_higher) == [True, True, False,
                                                                                                   False]


def test_a_config_with_four_tasks_is_refused_before_training() -> None:
    fourth = ["tasks.3.name=top", "tasks.3.column=progression", "tasks.3.kind=binary", "tasks.3.threshold=200"]
    with pytest.raises(ConfigError, match="covers 2 tasks"):
        pareto(small_config(*THIRD_TASK, *fourth), points=3, seeds=1)


@pytest.fixture(scope="module")
def front() -> dict[str, Any]:
    return pareto(small_config(), points=3, seeds=2, strategies=["equal", "dwa"])


def test_the_front_holds_points_strategies_and_single_task(front: dict[str, Any]) -> None:
    assert json.loads(json.dumps(front, allow_nan=False)) == front
    assert [point["weights"] for point in front["points"]] == [[0.5, 1.5], [1.0, 1.0], [1.5, 0.5]]
    assert [point["label"] for point in front["points"]] == ["0.5/1.5", "1/1", "1.5/0.5"]
    assert front["tasks"] == {"progression": {"metric": "mse", "higher_is_better": False},
                              "high_progression": {"metric": "accuracy", "higher_is_better": True}}
    assert set(front["strategies"]) == {"equal", "dwa"} and front["seeds"] == [0, 1]
    for summary in [*(p["tasks"] for p in front["points"]), front["stl"]["tasks"], front["strategies"]["dwa"]["tasks"]]:
        assert all(len(task["values"]) == 2 and task["std"] is not None for task in summary.values())
    assert len(front["runs"]) == 2 * (1 + 2 + 3) and front["status"] == "completed"


def test_equal_weighting_equals_the_point_one_one_and_flags_agree(front: dict[str, Any]) -> None:
    middle = front["points"][1]["tasks"]
    assert front["strategies"]["equal"]["tasks"] == middle  # static (1, 1) trains as equal does
    names, higher = list(front["tasks"]), [info["higher_is_better"] for info in front["tasks"].values()]
    means = [[p["tasks"][task]["mean"] for task in names] for p in front["points"]]
    assert [p["non_dominated"] for p in front["points"]] == non_dominated(means, higher)
    dwa = [front["strategies"]["dwa"]["tasks"][task]["mean"] for task in names]
    beating = [p["label"] for p, m in zip(front["points"], means, strict=True) if dominates(m, dwa, higher)]
    assert front["strategies"]["dwa"]["dominated_by"] == beating


def test_three_tasks_sweep_a_grid() -> None:
    front = pareto(small_config(*THIRD_TASK), points=2, seeds=1, strategies=["equal"])
    assert [point["weights"] for point in front["points"]] == [[1.0, 1.0, 1.0]]
    assert list(front["tasks"]) == ["progression", "high_progression", "band"]
    assert front["points"][0]["non_dominated"] and front["strategies"]["equal"]["dominated_by"] == []
