"""One experiment from config to results: defaults resolved, data checked first, results JSON-ready."""

from __future__ import annotations

import json

import pytest

from mtl_core.errors import DataError
from mtl_core.experiment import collect_results, prepare, resolve, run_experiment, run_to_results
from mtl_core.results import RunResults
from mtl_core.train import EpochEnded, Event, RunEnded, RunStarted
from tests.fixtures.builders import small_config


def test_a_config_without_tasks_takes_the_data_sets_default_tasks() -> None:
    resolved = resolve(small_config())
    assert [task.name for task in resolved.tasks] == ["progression", "high_progression"]
    assert resolve(resolved) == resolved


def test_given_tasks_are_kept() -> None:
    config = small_config(tasks=[{"name": "p", "column": "progression"}])
    assert [task.name for task in resolve(config).tasks] == ["p"]


def test_prepare_builds_the_dataset_of_the_resolved_config() -> None:
    config, dataset = prepare(small_config())
    assert config.tasks == dataset.tasks and dataset.source == "diabetes"
    assert dataset.feature_columns == ("age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6")


def test_bad_data_is_reported_when_the_run_is_asked_for_not_midway() -> None:
    config = small_config(tasks=[{"name": "p", "column": "nope"}])
    with pytest.raises(DataError, match=r"tasks\.0\.column = 'nope'"):
        run_experiment(config)  # raises here, before any event is read


def test_results_hold_the_documented_keys_and_are_strict_json() -> None:
    results = run_to_results(small_config(train={"epochs": 2}))
    assert list(results.to_dict()) == [
        "config", "status", "reason", "epochs_run", "duration_s", "metrics", "history", "predictions", "best_epoch",
        "best_value", "run", "environment",
    ]
    assert results.status == "completed" and results.duration_s >= 0 and results.epochs_run == len(results.history)
    assert set(results.metrics) == {"val", "test"}
    assert set(results.metrics["test"]["progression"]) == {"mse", "rmse", "mae", "r2"}
    assert [task["name"] for task in results.config["tasks"]] == ["progression", "high_progression"]
    json.dumps(results.to_dict(), allow_nan=False)  # raises on nan, inf or a value JSON cannot hold


def test_results_read_back_from_json_write_the_same_json() -> None:
    written = json.loads(json.dumps(run_to_results(small_config(train={"epochs": 2})).to_dict()))
    read = RunResults.from_dict(written)
    assert read.to_dict() == written and read["metrics"] == read.metrics  # readers by key see the same values


def test_the_results_config_loads_back_to_the_resolved_config() -> None:
    from mtl_core.config import ExperimentConfig

    config = small_config(train={"epochs": 1})
    assert ExperimentConfig.from_dict(run_to_results(config).config) == resolve(config)


def test_every_event_reaches_the_callback_in_order() -> None:
    seen: list[Event] = []
    run_to_results(small_config(train={"epochs": 2}), on_event=seen.append)
    assert [type(event) for event in seen] == [RunStarted, EpochEnded, EpochEnded, RunEnded]


def test_collect_results_needs_a_run_ended_event() -> None:
    with pytest.raises(AssertionError):
        collect_results(small_config(), iter([]))
