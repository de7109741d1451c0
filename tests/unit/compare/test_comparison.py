"""compare(): the numbers are those of separate runs; diverged and stopped runs are reported, not fatal."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from mtl_core import compare as comparison_module
from mtl_core.compare import compare, study, study_runs
from mtl_core.compare.text import comparison_text
from mtl_core.errors import ConfigError
from mtl_core.compare import runs as runs_module
from mtl_core.config import ExperimentConfig, load_config
from mtl_core.experiment import run_to_results

ROOT = Path(__file__).resolve().parents[3]
DIABETES = ROOT / "examples" / "diabetes.toml"
WINE = ROOT / "examples" / "wine_seed.toml"
FAST = ["train.epochs=3", "train.device=cpu"]


def small_config(*overrides: str) -> ExperimentConfig:
    return load_config(DIABETES, [*FAST, *overrides])


@pytest.fixture(scope="module")
def progress() -> list[tuple[int, int, str]]:
    return []


@pytest.fixture(scope="module")
def small(progress: list[tuple[int, int, str]]) -> dict[str, Any]:
    """equal and pcgrad against single-task on diabetes, 2 seeds, 3 epochs, r2 reported besides mse."""
    return compare(small_config(), seeds=2, strategies=["equal", "pcgrad"], metrics=["r2"],
                   on_progress=lambda *args: progress.append(args))


def test_the_summary_holds_the_documented_keys_as_strict_json(small: dict[str, Any]) -> None:
    assert json.loads(json.dumps(small, allow_nan=False)) == small
    assert small["seeds"] == [0, 1] and small["methods"] == ["stl", "equal", "pcgrad"]
    assert small["status"] == "completed" and small["notes"] == []
    for block in small["tasks"].values():
        assert set(block) >= {"metric", "higher_is_better", "results", "paired", "other_metrics"}
        assert set(block["results"]) == {"stl", "equal", "pcgrad"} and set(block["paired"]) == {"equal", "pcgrad"}
        assert set(block["results"]["stl"]) >= {"mean", "std", "values"}
        assert set(block["paired"]["equal"]) >= {"mean_diff", "std_diff", "wins", "p_wilcoxon", "p_t"}
    assert [block["metric"] for block in small["tasks"].values()] == ["mse", "accuracy"]
    assert list(small["tasks"]["progression"]["other_metrics"]) == ["r2"]
    assert small["tasks"]["high_progression"]["other_metrics"] == {}  # r2 does not apply to a binary task
    assert set(small["delta_m_percent"]["pcgrad"]) >= {"mean", "std", "values", "sentence"}
    assert set(small["verdicts"]["progression"]) == {"equal", "pcgrad"}


def test_every_run_is_listed_with_its_config(small: dict[str, Any]) -> None:
    runs = small["runs"]
    assert [(run["method"], run["seed"]) for run in runs] == [
        (method, seed) for method in ("stl", "equal", "pcgrad") for seed in (0, 1)]
    assert all(run["status"] == "completed" and run["duration_s"] > 0 for run in runs)
    assert {run["config"]["model"]["architecture"] for run in runs if run["method"] == "stl"} == {"single_task"}
    assert [run["config"]["train"]["seed"] for run in runs] == [0, 1] * 3


def test_progress_counts_every_run(small: dict[str, Any], progress: list[tuple[int, int, str]]) -> None:
    assert [(done, total) for done, total, _ in progress] == [(n, 6) for n in range(7)]
    assert progress[-1][2] == "pcgrad, seed 1: completed"


def test_the_numbers_are_those_of_separate_runs(small: dict[str, Any]) -> None:
    methods = {"stl": ["model.architecture=single_task"], "equal": [], "pcgrad": ["strategy.name=pcgrad"]}
    for method, overrides in methods.items():
        for index, seed in enumerate(small["seeds"]):
            alone = run_to_results(small_config(*overrides, f"train.seed={seed}"))["metrics"]["test"]
            for task, block in small["tasks"].items():
                assert block["results"][method]["values"][index] == pytest.approx(alone[task][block["metric"]],
                                                                                  rel=1e-6, abs=1e-9)
            r2 = small["tasks"]["progression"]["other_metrics"]["r2"]["results"][method]["values"][index]
            assert r2 == pytest.approx(alone["progression"]["r2"], rel=1e-6, abs=1e-9)


def test_paired_differences_and_delta_m_follow_the_per_seed_values(small: dict[str, Any]) -> None:
    block = small["tasks"]["high_progression"]
    stl, equal = block["results"]["stl"]["values"], block["results"]["equal"]["values"]
    assert block["paired"]["equal"]["diffs"] == pytest.approx([e - s for e, s in zip(equal, stl, strict=True)])
    first = {task: b["results"]["pcgrad"]["values"][0] for task, b in small["tasks"].items()}
    base = {task: b["results"]["stl"]["values"][0] for task, b in small["tasks"].items()}
    expected = 50 * ((first["progression"] - base["progression"]) / base["progression"]
                     - (first["high_progression"] - base["high_progression"]) / base["high_progression"])
    assert small["delta_m_percent"]["pcgrad"]["values"][0] == pytest.approx(expected)


def test_a_diverged_run_is_reported_and_left_out(monkeypatch: pytest.MonkeyPatch) -> None:
    real = runs_module.run_to_results

    def diverge_pcgrad_seed_1(config: ExperimentConfig, should_stop: Any = None) -> Any:
        results = real(config, should_stop)
        if config.strategy.name == "pcgrad" and config.train.seed == 1:
            return dataclasses.replace(results, status="diverged", metrics={"val": {}, "test": {}},
                                       reason="loss of task 'progression' became nan at epoch 2")
        return results

    monkeypatch.setattr(runs_module, "run_to_results", diverge_pcgrad_seed_1)
    monkeypatch.setattr(runs_module, "together_reason", lambda configs: "one by one, through the patched runner")
    summary = compare(small_config(), seeds=2, strategies=["equal", "pcgrad"])
    block = summary["tasks"]["progression"]
    assert block["results"]["pcgrad"]["values"][1] is None and block["results"]["pcgrad"]["n"] == 1
    assert block["paired"]["pcgrad"]["n"] == 1 and block["paired"]["equal"]["n"] == 2
    assert summary["delta_m_percent"]["pcgrad"]["values"][1] is None
    assert summary["verdicts"]["progression"]["pcgrad"]["outcome"] == "cannot tell"
    assert summary["notes"] == ["pcgrad, seed 1: diverged (loss of task 'progression' became nan at epoch 2); "
                                "left out of the statistics"]
    assert [run["status"] for run in summary["runs"]].count("diverged") == 1


def test_runs_that_all_diverge_still_give_a_summary() -> None:
    summary = compare(small_config("train.optimizer=sgd", "train.lr=1e6"), seeds=2, strategies=["equal"])
    assert {run["status"] for run in summary["runs"]} == {"diverged"}
    assert summary["tasks"]["progression"]["results"]["equal"]["mean"] is None
    assert "nothing to compare" in summary["verdicts"]["progression"]["equal"]["text"]
    assert json.dumps(summary, allow_nan=False) and len(summary["notes"]) == 4


def test_a_stopped_comparison_returns_what_finished() -> None:
    done: list[int] = []
    summary = compare(small_config(), seeds=2, strategies=["equal"], should_stop=lambda: len(done) >= 3,
                      on_progress=lambda n, total, label: done.append(n))
    assert summary["status"] == "stopped" and len(summary["runs"]) == 2
    assert summary["tasks"]["progression"]["results"]["stl"]["n"] == 2
    assert summary["tasks"]["progression"]["results"]["equal"]["values"] == [None, None]
    assert "equal, seed 0: not run (the comparison was stopped); left out" in summary["notes"]


def test_the_public_api_is_exported() -> None:
    assert {"compare", "pareto", "run_group", "delta_m", "verdict"} <= set(comparison_module.__all__)


@pytest.mark.slow
def test_on_the_wine_seed_equal_weights_cost_good_its_accuracy(wine_available: Path) -> None:
    summary = compare(load_config(WINE, ["train.device=cpu"]), seeds=5, strategies=["equal"])
    good = summary["tasks"]["good"]
    assert good["results"]["equal"]["mean"] < good["results"]["stl"]["mean"] - 0.02
    assert good["paired"]["equal"]["losses"] >= 4 and summary["verdicts"]["good"]["equal"]["outcome"] == "worse"
    # The same numbers as five separate runs (the seeds train together as one stacked model, exactly)
    for index, seed in enumerate(summary["seeds"]):
        alone = run_to_results(load_config(WINE, ["train.device=cpu", f"train.seed={seed}"]))["metrics"]["test"]
        assert good["results"]["equal"]["values"][index] == pytest.approx(alone["good"]["accuracy"], abs=1e-5)
        assert summary["tasks"]["quality"]["results"]["equal"]["values"][index] == pytest.approx(
            alone["quality"]["mse"], abs=1e-5)


def test_fewer_than_five_seeds_carry_a_caution_into_the_summary_and_the_terminal(small: dict[str, Any]) -> None:
    assert small["caution"] is not None and small["caution"].startswith("2 seeds are weak evidence")
    assert all(verdict["weak"] for per_task in small["verdicts"].values() for verdict in per_task.values())
    text = comparison_text(small)
    assert "caution: 2 seeds are weak evidence" in text
    assert "`" not in text and "high_progression: " in text  # plain text: no Markdown for the terminal


@pytest.mark.parametrize("run", [lambda config: compare(config, seeds=2), lambda config: study(config, seeds=2),
                                 lambda config: study_runs(config, 2, None, None)],
                         ids=["compare", "study", "study_runs"])
def test_a_one_task_experiment_is_refused_before_anything_trains(run: Any) -> None:
    one_task = ExperimentConfig.from_dict({"data": {"dataset": "diabetes"},
                                           "tasks": [{"name": "progression", "column": "progression"}]})
    with pytest.raises(ConfigError, match="one task \\('progression'\\).*Add a task"):
        run(one_task)
