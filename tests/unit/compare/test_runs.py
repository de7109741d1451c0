"""The runs of a comparison: seeds, the single-task and per-strategy configs, and how a group of seeds runs."""

from __future__ import annotations

from typing import Any

import pytest

from mtl_core.compare import baseline_config, run_group, seed_list, static_config, strategy_config
from mtl_core.compare.runs import check_metrics, check_strategies, with_metrics, with_seed
from mtl_core.config import ExperimentConfig
from mtl_core.errors import ConfigError, UnknownNameError
from mtl_core.experiment import resolve, run_to_results
from mtl_core.train import together_reason


def diabetes(**sections: Any) -> ExperimentConfig:
    return resolve(ExperimentConfig.from_dict({"data": {"dataset": "diabetes"},
                                               "train": {"epochs": 2, "seed": 3, "device": "cpu"}, **sections}))


def test_seeds_count_up_from_the_configs_own_or_are_given() -> None:
    assert seed_list(diabetes(), 3) == [3, 4, 5]
    assert seed_list(diabetes(), [7, 1]) == [7, 1]
    for bad in (0, [], [1, 1], [-1]):
        with pytest.raises(ConfigError, match="seed"):
            seed_list(diabetes(), bad)


def test_the_baseline_is_single_task_with_the_same_trunk_and_training() -> None:
    config = diabetes(model={"architecture": "mmoe", "n_experts": 3, "hidden": [16, 8], "activation": "tanh"},
                      strategy={"name": "pcgrad", "seed": 2})
    baseline = baseline_config(config)
    assert baseline.model.architecture == "single_task" and baseline.model.hparams == {}  # n_experts dropped
    assert (baseline.model.hidden, baseline.model.activation) == ((16, 8), "tanh")
    assert baseline.strategy.name == "equal" and baseline.strategy.hparams == {}
    assert (baseline.train, baseline.data, baseline.tasks) == (config.train, config.data, config.tasks)


def test_a_strategy_keeps_the_configs_settings_only_when_it_is_the_configs_own() -> None:
    config = diabetes(strategy={"name": "gradnorm", "alpha": 0.5})
    assert strategy_config(config, "gradnorm").strategy.hparams == {"alpha": 0.5}
    other = strategy_config(config, "pcgrad")
    assert other.strategy.name == "pcgrad" and other.strategy.hparams == {} and other.model == config.model
    assert static_config(config, [0.5, 1.5]).strategy.hparams == {"weights": [0.5, 1.5]}


def test_unknown_strategy_names_are_refused_with_a_suggestion() -> None:
    with pytest.raises(UnknownNameError, match="Did you mean 'pcgrad'"):
        check_strategies(diabetes(), ["equal", "pcgard"])
    assert check_strategies(diabetes(strategy={"name": "dwa"}), None) == ["dwa"]


def test_extra_metrics_must_apply_to_some_task_and_are_then_computed() -> None:
    config = diabetes(tasks=[{"name": "progression", "column": "progression", "metrics": ["r2"]},
                             {"name": "high", "column": "progression", "kind": "binary", "threshold": 140.5}])
    assert check_metrics(config, ["mae", "auc"]) == ["mae", "auc"]
    with pytest.raises(ConfigError, match="'nope' applies to none of the tasks"):
        check_metrics(config, ["nope"])
    progression, high = with_metrics(config, ["mae"]).tasks
    assert progression.metrics == ("r2", "mse", "mae") and high == config.tasks[1]


def test_a_group_of_seeds_trains_together_with_the_numbers_of_separate_runs() -> None:
    seen: list[int] = []
    configs = [with_seed(diabetes(), seed) for seed in (0, 1, 2)]
    results = run_group(configs, on_result=lambda r: seen.append(r["config"]["train"]["seed"]))
    assert seen == [0, 1, 2] and len({r["duration_s"] for r in results}) == 1  # one shared pass
    assert [r["predictions"] for r in results] == [run_to_results(config)["predictions"] for config in configs]


def test_a_group_that_cannot_train_together_runs_one_by_one() -> None:
    mini_batches = diabetes(strategy={"name": "pcgrad"}).with_overrides(["train.batch_size=64"])
    configs = [with_seed(mini_batches, seed) for seed in (0, 1)]
    assert "mini-batches" in str(together_reason(configs))
    results = run_group(configs)
    assert [r["status"] for r in results] == ["completed"] * 2
    assert results[0]["duration_s"] != results[1]["duration_s"]  # each timed on its own


def test_a_stopped_group_starts_no_new_run() -> None:
    results = run_group([with_seed(diabetes(), seed) for seed in (0, 1, 2)], should_stop=lambda: True)
    assert results == []
