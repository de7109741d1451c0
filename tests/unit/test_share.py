"""The share link: configs round-trip through the query string; any link opens a valid config, with warnings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mtl_core import limits, weighting
from mtl_core.config import ExperimentConfig, ModelConfig, TrainConfig, load_config, parse_value
from mtl_core.data import DATASETS
from mtl_core.models import ARCHITECTURES
from mtl_core.share import SharedSetup, cli_command, from_query, query_string, to_query

ROOT = Path(__file__).resolve().parents[2]

CONFIGS: dict[str, dict[str, Any]] = {
    "mmoe with experts": {"data": {"dataset": "wine-red"}, "model": {"architecture": "mmoe", "n_experts": 6}},
    "gradnorm alpha": {"strategy": {"name": "gradnorm", "alpha": 0.5}, "train": {"epochs": 30, "lr": 0.003}},
    "static weights": {"strategy": {"name": "static", "weights": [1.0, 2.5]}},
    "cnn trunk": {"data": {"dataset": "digits"}, "model": {"trunk": "cnn", "channels": [8, 16], "blocks": 2}},
    "derived tasks": {"data": {"dataset": "wine-white", "features": ["alcohol", "pH"]}, "tasks": [
        {"name": "good", "column": "quality", "kind": "binary", "threshold": 6},
        {"name": "band", "column": "quality", "kind": "multiclass", "bins": [5.0, 7.0], "metric": "f1"},
        {"name": "thirds", "column": "alcohol", "kind": "multiclass", "bins": 3},
        {"name": "score", "column": "quality", "standardize": True, "loss": "l1"},
    ]},
    "numeric-looking names": {"tasks": [
        {"name": "2010", "column": "2010"}, {"name": "1e3", "column": "true"}, {"name": "list", "column": "64,32"},
        {"name": "spaced", "column": " padded "}, {"name": "quoted", "column": '"q"'},
        {"name": "null", "column": "null", "kind": "binary", "equals": "7"},
    ]},
    "data set parameters": {"data": {"dataset": "mmoe-synthetic", "params": {"correlation": 0.9, "n_rows": 500}},
                            "train": {"select": "y1.mse", "patience": 5, "scheduler": "cosine", "device": "cpu"}},
}


def all_configs() -> dict[str, ExperimentConfig]:
    configs = {name: ExperimentConfig.from_dict(values) for name, values in CONFIGS.items()}
    return {"wine seed": load_config(ROOT / "examples" / "wine_seed.toml"), "defaults": ExperimentConfig(), **configs}


@pytest.mark.parametrize("name", list(all_configs()))
def test_a_config_reads_back_from_its_query_unchanged_without_warnings(name: str) -> None:
    config = all_configs()[name]
    shared = from_query(to_query(config))
    assert shared == SharedSetup(config, (), False)
    assert shared.config.to_dict() == config.to_dict()


@pytest.mark.parametrize("name", list(all_configs()))
def test_the_encoded_query_string_reads_back_unchanged(name: str) -> None:
    config = all_configs()[name]
    assert from_query(parse_qs(query_string(config), keep_blank_values=True)).config == config


@pytest.mark.parametrize("name", list(all_configs()))
def test_query_keys_are_cli_set_keys_that_rebuild_the_config(name: str) -> None:
    config = all_configs()[name]
    assert ExperimentConfig().with_overrides(f"{key}={text}" for key, text in to_query(config).items()) == config


def test_the_query_holds_only_changed_settings_in_section_order() -> None:
    config = ExperimentConfig.from_dict({"train": {"epochs": 5}, "strategy": {"name": "gradnorm", "alpha": 1.0},
                                         "model": {"hidden": [32, 32]}, "data": {"test_size": 0.3}})
    assert to_query(config) == {"data.test_size": "0.3", "model.hidden": "[32,32]", "strategy.name": "gradnorm",
                                "strategy.alpha": "1.0", "train.epochs": "5"}
    assert list(to_query(all_configs()["wine seed"]))[:3] == ["data.dataset", "data.val_size", "data.stratify"]
    assert to_query(ExperimentConfig()) == {}


def test_values_are_written_so_parse_value_reads_them_back() -> None:
    query = to_query(all_configs()["numeric-looking names"])
    assert parse_value(query["tasks.0.column"]) == "2010" and parse_value(query["tasks.1.column"]) == "true"
    assert parse_value(query["tasks.2.column"]) == "64,32" and parse_value(query["tasks.4.column"]) == '"q"'
    assert parse_value(to_query(all_configs()["static weights"])["strategy.weights"]) == [1.0, 2.5]


def test_tasks_appear_only_when_the_config_lists_them() -> None:
    query = to_query(ExperimentConfig.from_dict({"data": {"dataset": "tips"}}))
    assert query == {"data.dataset": "tips"}
    assert to_query(all_configs()["wine seed"])["tasks.1.threshold"] == "6.0"


def test_a_data_path_never_goes_into_a_link() -> None:
    config = ExperimentConfig.from_dict({"data": {"path": "/home/me/private.csv"}, "train": {"epochs": 3}})
    assert to_query(config) == {"train.epochs": "3"} and "private" not in query_string(config)


def test_the_cli_command_runs_the_downloaded_toml() -> None:
    assert cli_command(ExperimentConfig()) == "python -m mtl_core run experiment.toml --out results.json"
    assert cli_command(ExperimentConfig(), "wine; rm -rf.toml").startswith("python -m mtl_core run 'wine; rm -rf.toml'")


# --- bad links ---------------------------------------------------------------------------------------------------

BAD_LINKS: list[tuple[dict[str, str], str, Any]] = [
    ({"bogus": "1"}, "bogus", lambda c: c == ExperimentConfig()),
    ({"train.epochs": "0"}, "train.epochs", lambda c: c.train.epochs == 1),
    ({"train.epochs": "10000000"}, "train.epochs", lambda c: c.train.epochs == limits.MAX_EPOCHS),
    ({"train.lr": "-1"}, "train.lr", lambda c: 0 < c.train.lr < 0.01),
    ({"data.test_size": "1.5"}, "data.test_size", lambda c: 0 < c.data.test_size < 1),
    ({"data.val_size": "-0.1"}, "data.val_size", lambda c: c.data.val_size == 0.0),
    ({"data.test_size": "0.95"}, "data.test_size", lambda c: c.data.test_size == 0.2),
    ({"strategy.name": "gradnorm", "strategy.alpha": "-2"}, "strategy.alpha",
     lambda c: c.strategy.name == "gradnorm" and c.strategy.hparams == {}),
    ({"data.dataset": "wine-rde"}, "data.dataset", lambda c: c.data.dataset == "wine-red"),
    ({"data.dataset": "no-such-data"}, "data.dataset", lambda c: c.data.dataset is None),
    ({"strategy.name": "pcgard"}, "strategy.name", lambda c: c.strategy.name == "pcgrad"),
    ({"strategy.name": "zzzzzz"}, "strategy.name", lambda c: c.strategy.name == "equal"),
    ({"model.architecture": "mmeo"}, "model.architecture", lambda c: c.model.architecture == "mmoe"),
    ({"model.architecture": "mmoe", "model.n_experts": "0"}, "model.n_experts", lambda c: c.model.hparams == {}),
    ({"model.architecture": "mmoe", "model.n_expert": "3"}, "model.n_expert", lambda c: c.model.hparams == {}),
    ({"model.hidden": "abc"}, "model.hidden", lambda c: c.model.hidden == ModelConfig().hidden),
    ({"model.hidden": "[0, 4]"}, "model.hidden", lambda c: c.model.hidden == ModelConfig().hidden),
    ({"train.optimizer": "adma"}, "train.optimizer", lambda c: c.train.optimizer == "adam"),
    ({"train.device": "quantum"}, "train.device", lambda c: c.train.device == "auto"),
    ({"train.patience": "3"}, "train.patience", lambda c: c.train.patience is None),
    ({"train.lr": "1e999"}, "train.lr", lambda c: c.train.lr == TrainConfig().lr),
    ({"train.epoch": "5"}, "train.epochs", lambda c: c.train.epochs == 100),
    ({"data.dataset": "mmoe-synthetic", "data.params.n_rows": "1"}, "data.params.n_rows",
     lambda c: c.data.params == {"n_rows": 10}),
    ({"tasks.0.name": "a", "tasks.0.column": "b", "tasks.0.kind": "nope"}, "tasks.0", lambda c: c.tasks == ()),
    ({"tasks.0.name": "a", "tasks.0.column": "b", "tasks.1.name": "a", "tasks.1.column": "c"}, "tasks.1",
     lambda c: [t.column for t in c.tasks] == ["b"]),
]


@pytest.mark.parametrize(("query", "named", "check"), BAD_LINKS, ids=[" ".join(q) for q, _, _ in BAD_LINKS])
def test_a_bad_link_gives_a_valid_config_and_a_warning_naming_the_setting(query: dict[str, str], named: str,
                                                                          check: Any) -> None:
    shared = from_query(query)
    assert check(shared.config), shared.config
    assert any(named in warning for warning in shared.warnings), shared.warnings
    assert ExperimentConfig.from_dict(shared.config.to_dict()) == shared.config


def test_an_out_of_range_warning_says_the_value_given_and_the_value_used() -> None:
    (warning,) = from_query({"train.epochs": "0"}).warnings
    assert warning.startswith("train.epochs = '0'") and warning.endswith("using 1")


def test_unknown_names_and_keys_get_a_did_you_mean() -> None:
    warnings = " ".join(from_query({"strategy.name": "pcgard", "train.epoch": "5"}).warnings)
    assert "Did you mean 'pcgrad'" in warnings and "Did you mean 'train.epochs'" in warnings


def test_a_data_path_warns_that_uploads_do_not_travel_and_is_not_used() -> None:
    shared = from_query({"data.path": "/home/me/private.csv", "train.epochs": "4"})
    assert shared.uses_upload and shared.config.data.path is None and shared.config.train.epochs == 4
    assert any("data.path" in warning and "upload" in warning for warning in shared.warnings)


def test_one_bad_key_leaves_the_other_keys_applied() -> None:
    shared = from_query({"train.epochs": "0", "train.lr": "0.05", "model.hidden": "abc", "model.dropout": "0.2",
                         "strategy.name": "gradnorm", "strategy.alpha": "-2", "data.dataset": "wine-rde",
                         "data.test_size": "0.3", "tasks.0.name": "x", "tasks.0.column": "alcohol"})
    config = shared.config
    assert (config.train.lr, config.model.dropout, config.data.test_size) == (0.05, 0.2, 0.3)
    assert config.strategy.name == "gradnorm"
    assert config.data.dataset == "wine-red" and [task.name for task in config.tasks] == ["x"]
    assert len(shared.warnings) == 4


def test_repeated_keys_use_the_last_value() -> None:
    assert from_query({"train.epochs": ["5", "7"]}).config.train.epochs == 7
    assert from_query({"train.epochs": ("5",)}).config.train.epochs == 5


def test_lists_may_be_written_with_commas_and_tables_as_json() -> None:
    assert from_query({"model.hidden": "128,64"}).config.model.hidden == (128, 64)
    shared = from_query({"data.dataset": "mmoe-synthetic", "data.params": '{"n_rows": 300}'})
    assert shared.config.data.params == {"n_rows": 300} and shared.warnings == ()


def test_streamlits_own_query_parameters_are_ignored_quietly() -> None:
    assert from_query({"embed": "true", "embed_options": "light_theme"}) == SharedSetup(ExperimentConfig())


# --- any link at all ---------------------------------------------------------------------------------------------

REAL_KEYS = sorted({key for config in all_configs().values() for key in to_query(config)} | {
    "data.path", "data.split_seed", "data.stratify", "data.channels", "data.params", "data.task_id_column",
    "model.architecture", "model.norm", "model.dropout", "model.activation", "model.lam", "model.tower_hidden",
    "strategy.seed", "strategy.weights", "strategy.temperature", "train.optimizer", "train.batch_size",
    "train.momentum", "train.clip_grad_norm", "train.threads", "train.gamma", "train.step_size", "tasks.0.equals",
    "tasks.0.task_id", "tasks.3.metrics", "tasks.1.kind", "tasks.1.threshold",
})
NAMES = [*weighting.available(), *ARCHITECTURES.names(), *DATASETS.names(), "adam", "sgd", "cnn", "binary"]
keys = st.sampled_from(REAL_KEYS) | st.text(max_size=20) | st.builds(
    lambda key, tail: f"{key}{tail}", st.sampled_from(REAL_KEYS), st.text(max_size=4))
texts = st.one_of(
    st.integers(-10**30, 10**30).map(str),
    st.floats().map(repr),
    st.sampled_from(["", " ", "NaN", "Infinity", "-Infinity", "1e999", "null", "true", "[]", "{}", "[0]", "[1e308, -1]",
                     "[" * 5000, "9" * 500, '{"n_rows": -5}', "64,64", ",", "[64, \"a\"]"]),
    st.sampled_from(NAMES),
    st.text(max_size=30),
    st.lists(st.integers(-5, 300), max_size=4).map(json.dumps),
)
values = texts | st.lists(texts, max_size=3)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(query=st.dictionaries(keys, values, max_size=12))
def test_any_link_gives_a_config_that_survives_a_round_trip(query: dict[str, Any]) -> None:
    shared = from_query(query)
    assert isinstance(shared.config, ExperimentConfig) and all(isinstance(w, str) for w in shared.warnings)
    assert ExperimentConfig.from_dict(shared.config.to_dict()) == shared.config
    again = from_query(to_query(shared.config))
    assert again.config == shared.config and again.warnings == ()
