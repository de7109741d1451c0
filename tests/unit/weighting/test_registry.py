"""available, create and describe: what the CLI, the config and the UI menu read."""

from __future__ import annotations

import pytest

from mtl_core.errors import ConfigError, UnknownNameError
from mtl_core.weighting import STRATEGIES, available, create, describe


def test_the_baselines_are_available_as_loss_based_strategies() -> None:
    assert {"equal", "static"} <= set(available())
    assert {"equal", "static"} <= set(available(kind="loss"))
    assert not {"equal", "static"} & set(available(kind="gradient"))
    assert available() == sorted(available())


def test_the_kinds_partition_the_available_names() -> None:
    assert sorted(available(kind="loss") + available(kind="gradient")) == available()


def test_create_returns_a_ready_instance_of_the_registered_class() -> None:
    strategy = create("static", weights=[2.0, 1.0])
    assert isinstance(strategy, STRATEGIES.get("static")) and strategy.hparams() == {"weights": [2.0, 1.0]}


def test_an_unknown_strategy_suggests_the_closest_and_lists_them() -> None:
    with pytest.raises(UnknownNameError) as caught:
        create("equl")
    message = str(caught.value)
    assert message.startswith("strategy.name = 'equl': no strategy named 'equl'. Did you mean 'equal'?")
    assert "Available: " + ", ".join(available()) in message


@pytest.mark.parametrize(("name", "hparams", "words"), [
    ("equal", {"alpha": 1.0}, "strategy.alpha: Equal has no such hyper-parameter. It takes: none"),
    ("static", {"wieghts": [1.0]}, "strategy.wieghts: Static has no such hyper-parameter. Did you mean 'weights'? It takes: weights"),
    ("static", {"weights": "heavy"}, "strategy.weights = 'heavy'"),
    ("static", {"weights": [1.0, -1.0]}, "strategy.weights.1 = -1.0"),
])
def test_create_validates_hyper_parameters_naming_strategy_key(name: str, hparams: dict[str, object],
                                                               words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        create(name, **hparams)
    assert words in str(caught.value)


@pytest.mark.parametrize("name", available())
def test_describe_gives_what_a_menu_and_a_form_need(name: str) -> None:
    (entry,) = describe(name)
    assert entry["name"] == name and entry["kind"] in ("loss", "gradient")
    assert entry["summary"] and entry["paper"]
    assert isinstance(entry["claims"], list)
    schema = entry["hparams"]
    assert schema["type"] == "object" and set(schema.get("properties", {})) == set(create(name).hparams())


def test_describe_without_a_name_covers_every_strategy_in_order() -> None:
    assert [entry["name"] for entry in describe()] == available()


def test_the_static_form_schema_allows_a_list_or_a_table_of_non_negative_weights() -> None:
    (entry,) = describe("static")
    options = entry["hparams"]["properties"]["weights"]["anyOf"]
    assert {option["type"] for option in options} == {"array", "object", "null"}
    array = next(option for option in options if option["type"] == "array")
    assert array["items"]["minimum"] == 0.0


def test_describe_an_unknown_name_is_an_unknown_name_error() -> None:
    with pytest.raises(UnknownNameError):
        describe("nope")


def test_a_described_entry_edited_by_its_caller_leaves_the_next_description_whole():
    (entry,) = describe("static")
    entry["hparams"]["properties"].clear()
    entry["summary"] = "changed"
    (again,) = describe("static")
    assert again["hparams"]["properties"] and again["summary"] != "changed"
