"""Hyper-parameters declared as annotated keywords: one model per callable, one wording of every problem."""

from __future__ import annotations

import importlib
from typing import Annotated, Any, Literal

import pytest
from pydantic import Field

from mtl_core.errors import ConfigError
from mtl_core.settings import describe, hparam_model, hparam_names, validate


Weight = Annotated[float, Field(ge=0.0)]


class Toy:
    """An architecture-like class: three inputs of the call, then its hyper-parameters."""

    def __init__(self, input_shape: tuple[int, ...], heads: dict[str, int], settings: object, *,
                 n_experts: Annotated[int, Field(ge=1, le=64, description="experts")] = 4,
                 weights: list[Weight] | dict[str, Weight] | None = None,
                 graph: tuple[tuple[Annotated[float, Field(ge=0.0)], ...], ...] | None = None,
                 mode: Literal["a", "b"] = "a", size: int | str = 1) -> None:
        pass


def load(*, rows: Annotated[int, Field(ge=10)] = 100, seed: Annotated[int, Field(ge=0)] = 0) -> None:
    """A data set's load function."""


def problem(values: dict[str, Any], target: Any = Toy, prefix: str = "model", owner: str = "architecture 'toy'") -> str:
    with pytest.raises(ConfigError) as caught:
        validate(target, values, prefix, owner)
    return str(caught.value)


def test_the_inputs_of_the_call_are_not_hyper_parameters() -> None:
    assert hparam_names(Toy) == ["n_experts", "weights", "graph", "mode", "size"]
    assert hparam_names(load) == ["rows", "seed"]


def test_valid_values_come_back_with_the_defaults_filled_in() -> None:
    assert validate(load, {"rows": 20}, "data.params", "data set 'toy'") == {"rows": 20, "seed": 0}
    assert validate(Toy, {"graph": [[0, 1], [1, 0]]}, "model", "toy")["graph"] == ((0.0, 1.0), (1.0, 0.0))


def test_the_model_is_built_once_per_callable() -> None:
    assert hparam_model(load) is hparam_model(load)


def test_an_unknown_key_suggests_the_closest_and_lists_what_it_takes() -> None:
    assert problem({"n_expert": 2}) == ("model.n_expert: architecture 'toy' has no such hyper-parameter. "
                                        "Did you mean 'n_experts'? It takes: n_experts, weights, graph, mode, size")


def test_an_unknown_key_far_from_every_name_gets_no_suggestion() -> None:
    message = problem({"colour": 1}, load, "data.params", "data set 'toy'")
    assert message == "data.params.colour: data set 'toy' has no such hyper-parameter. It takes: rows, seed"


def test_keys_of_the_same_section_taken_elsewhere_are_suggested_and_listed() -> None:
    with pytest.raises(ConfigError) as caught:
        validate(Toy, {"hiden": [8]}, "model", "architecture 'toy'", common=["architecture", "hidden"])
    message = str(caught.value)
    assert "Did you mean 'hidden'?" in message
    assert message.endswith("It takes: n_experts, weights, graph, mode, size, besides the keys [model] always takes: "
                            "architecture, hidden")


def test_a_bad_value_names_key_value_and_the_limit() -> None:
    assert problem({"n_experts": 0}) == "model.n_experts = 0: Input should be greater than or equal to 1"
    assert problem({"mode": "c"}) == "model.mode = 'c': Input should be 'a' or 'b'"


def test_a_union_reports_the_member_that_got_furthest() -> None:
    assert problem({"weights": [1.0, -1.0]}) == "model.weights.1 = -1.0: Input should be greater than or equal to 0"
    assert problem({"weights": {"a": -2}}) == "model.weights.a = -2: Input should be greater than or equal to 0"


def test_a_union_whose_members_all_fail_at_once_says_each_expectation_once() -> None:
    assert problem({"size": [1]}) == ("model.size = [1]: Input should be a valid integer, "
                                      "or input should be a valid string")
    message = problem({"weights": "heavy"})
    assert message.startswith("model.weights = 'heavy': Input should be a valid list, or input should be a valid")


def test_nested_lists_name_the_position() -> None:
    assert problem({"graph": [[0, -1], [1, 0]]}) == "model.graph.0.1 = -1: Input should be greater than or equal to 0"


def test_several_problems_are_joined_one_per_key() -> None:
    message = problem({"n_experts": 0, "mode": "c", "extra": 1})
    assert message.count("; ") == 2 and "model.n_experts = 0" in message and "model.extra: architecture" in message


def test_describe_gives_the_json_schema_with_limits_and_descriptions_as_a_copy() -> None:
    schema = describe(Toy)
    assert schema["properties"]["n_experts"] == {"default": 4, "description": "experts", "maximum": 64, "minimum": 1,
                                                 "title": "N Experts", "type": "integer"}
    schema["properties"].clear()
    assert describe(Toy)["properties"]


def unknown_and_bad_value_messages(kind: str) -> tuple[str, str]:
    """The messages of one misspelt key and one value out of range, through the kind's public ``create``."""
    from mtl_core import data, models, weighting

    calls = {
        "strategy": (lambda **values: weighting.create("gradnorm", **values), "alhpa", "alpha"),
        "architecture": (lambda **values: models.create("mmoe", 3, {"y": 1}, **values), "n_expert", "n_experts"),
        "data set": (lambda **values: data.create("mmoe-synthetic", n_rows=20, **values), "corelation", "correlation"),
    }
    call, misspelt, key = calls[kind]
    messages = []
    for values in ({misspelt: 1}, {key: -5}):
        with pytest.raises(ConfigError) as caught:
            call(**values)
        messages.append(str(caught.value))
    return messages[0], messages[1]


@pytest.mark.parametrize(("kind", "prefix", "owner", "key"), [
    ("strategy", "strategy", "GradNorm", "alpha"),
    ("architecture", "model", "architecture 'mmoe'", "n_experts"),
    ("data set", "data.params", "data set 'mmoe-synthetic'", "correlation"),
])
def test_strategies_architectures_and_data_sets_word_their_problems_the_same_way(kind: str, prefix: str, owner: str,
                                                                                key: str) -> None:
    unknown, bad_value = unknown_and_bad_value_messages(kind)
    assert unknown.startswith(f"{prefix}.") and f": {owner} has no such hyper-parameter. Did you mean {key!r}? " \
        f"It takes: " in unknown
    assert bad_value.startswith(f"{prefix}.{key} = -5: Input should be greater than")


@pytest.mark.parametrize("kind", ["weighting", "models", "data"])
def test_the_three_registries_offer_available_create_and_describe(kind: str) -> None:
    module = importlib.import_module(f"mtl_core.{kind}")
    names = module.available()
    assert names == sorted(names) and callable(module.create)
    described = module.describe()
    assert [item["name"] for item in described] == names
    assert all(item["summary"] and item["hparams"]["type"] == "object" for item in described)
    assert module.describe(names[0]) == described[:1]
