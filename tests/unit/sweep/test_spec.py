"""Sweep files: one-line errors naming the key; the trials a grid, random draws and seeds make."""

from __future__ import annotations

from pathlib import Path

import pytest

from mtl_core.errors import ConfigError
from mtl_core.sweep import count_trials, expand, load_sweep, parse_sweep
from mtl_core.sweep.spec import draws

BASE = {"data": {"dataset": "diabetes"}, "model": {"hidden": [4]}, "train": {"epochs": 2}}


@pytest.mark.parametrize(("values", "named"), [
    ({"metric": "val.progression.mse", "sampels": 3}, "sampels"),
    ({"metric": "progression.mse"}, "metric"),
    ({"metric": "val.progression.mse", "mode": "lowest"}, "mode"),
    ({"metric": "val.progression.mse", "random": {"train.lr": {"log_uniform": [0, 1]}}}, "random.train.lr"),
    ({"metric": "val.progression.mse", "random": {"train": {"lr": {"uniform": [1, 0]}}}}, "random.train.lr"),
    ({"metric": "val.progression.mse", "random": {"train.lr": {"normal": [0, 1]}}}, "random.train.lr"),
    ({"metric": "val.progression.mse", "grid": {"model.hidden": []}}, "grid.model.hidden"),
    ({"metric": "val.progression.mse", "resources": {"cpus": 0}}, "resources.cpus"),
    ({"metric": "val.progression.mse", "scheduler": "hyperband"}, "scheduler"),
])
def test_a_bad_sweep_setting_is_one_line_naming_its_key(values: dict, named: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_sweep(values, "sweep file 'x.toml'")
    text = str(caught.value)
    assert "\n" not in text and text.startswith("sweep file 'x.toml': ") and named in text


@pytest.mark.parametrize(("values", "named"), [
    ({"grid": {"train.lr": [-1.0]}}, "grid.train.lr = -1.0"),
    ({"grid": {"strategy.alpah": [1]}}, "grid.strategy.alpah = 1"),
    ({"random": {"model.dropout": {"uniform": [0.5, 1.5]}}}, "random.model.dropout"),
    ({"metric": "val.nope.mse"}, "metric = 'val.nope.mse'"),
    ({"metric": "val.progression.accuracy"}, "metric = 'val.progression.accuracy'"),
])
def test_a_swept_value_the_config_refuses_is_one_line_naming_the_swept_key(values: dict, named: str) -> None:
    spec = parse_sweep({"metric": "val.progression.mse", **values})
    with pytest.raises(ConfigError) as caught:
        expand(spec, BASE, "sweep file 'x.toml'")
    assert "\n" not in str(caught.value) and named in str(caught.value)


def test_grid_samples_and_seeds_multiply_and_random_draws_repeat() -> None:
    values = {"metric": "val.progression.mse", "seeds": 2, "samples": 3, "grid": {"strategy": {"name": ["equal", "dwa"]}},
              "random": {"train.lr": {"log_uniform": [1e-4, 1e-1]}, "model.hidden": {"choice": [[4], [8, 8]]},
                         "train.batch_size": {"int": [16, 64]}}}
    spec = parse_sweep(values)
    trials = expand(spec, BASE)
    assert len(trials) == count_trials(spec) == 12
    assert [trial.seed for trial in trials[:4]] == [0, 1, 0, 1]
    assert draws(spec) == draws(parse_sweep(values))  # the same file gives the same trials
    assert all(1e-4 <= trial.config["train"]["lr"] <= 1e-1 and 16 <= trial.config["train"]["batch_size"] <= 64
               for trial in trials)
    assert trials[0].config["strategy"]["name"] == "equal" and trials[-1].config["strategy"]["name"] == "dwa"
    assert trials[0].config["train"]["threads"] == 1  # resources.cpus: the same numbers on every backend


def test_samples_without_random_keys_is_refused() -> None:
    with pytest.raises(ConfigError, match="samples = 3"):
        draws(parse_sweep({"metric": "val.progression.mse", "samples": 3}))


def test_a_base_file_is_read_relative_to_the_sweep_file(tmp_path: Path) -> None:
    (tmp_path / "base.toml").write_text('[data]\ndataset = "diabetes"\n[train]\nepochs = 2\n', encoding="utf-8")
    (tmp_path / "sweep.yaml").write_text('base: base.toml\nmetric: test.high_progression.auc\nmode: max\n'
                                         'grid:\n  strategy.name: [equal, pcgrad]\n', encoding="utf-8")
    spec, base = load_sweep(tmp_path / "sweep.yaml")
    trials = expand(spec, base)
    assert [trial.label for trial in trials] == ["strategy.name=equal seed=0", "strategy.name=pcgrad seed=0"]
    assert spec.mode == "max" and trials[0].config["train"]["epochs"] == 2
