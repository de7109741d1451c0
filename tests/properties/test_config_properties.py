"""Overrides set exactly the value given; configs round-trip through dicts and TOML."""

from __future__ import annotations

import json
import re
import tomllib
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from mtl_core import limits
from mtl_core.config import ExperimentConfig, apply_override, parse_value

keys = st.lists(st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True), min_size=1, max_size=4)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**9, 10**9) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)


def lookup(values: dict[str, Any], path: list[str]) -> Any:
    node: Any = values
    for part in path:
        node = node[part]
    return node


@settings(max_examples=150, deadline=None)
@given(path=keys, value=json_values)
def test_an_override_of_a_json_value_sets_exactly_that_value(path: list[str], value: object) -> None:
    values: dict[str, Any] = {}
    apply_override(values, f"{'.'.join(path)}={json.dumps(value)}")
    assert lookup(values, path) == value


@settings(max_examples=150, deadline=None)
@given(path=keys, text=st.text(min_size=1, max_size=12).filter(lambda t: "\n" not in t))
def test_an_override_of_plain_text_keeps_it_unless_it_is_json(path: list[str], text: str) -> None:
    values: dict[str, Any] = {"other": 1}
    apply_override(values, f"{'.'.join(path)}={text}")
    assert lookup(values, path) == parse_value(text.strip())  # surrounding spaces are not part of a value
    try:
        expected = json.loads(text.strip())
    except json.JSONDecodeError:
        expected = text.strip()
    assert lookup(values, path) == expected or expected != expected  # nan never equals itself


@settings(max_examples=80, deadline=None)
@given(path=keys, first=json_values, second=json_values)
def test_the_last_override_of_a_key_wins_and_others_are_untouched(path: list[str], first: object,
                                                                  second: object) -> None:
    values: dict[str, Any] = {"untouched": {"a": 1}}
    key = ".".join(path)
    apply_override(values, f"{key}={json.dumps(first)}")
    apply_override(values, f"{key}={json.dumps(second)}")
    assert lookup(values, path) == second
    if path[0] != "untouched":
        assert values["untouched"] == {"a": 1}


# Any character but lone surrogates: control characters, DEL and characters beyond the BMP included
# (to_toml once wrote DEL raw and astral characters as surrogate escapes, both invalid TOML).
texts = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12)
names = texts.filter(lambda name: re.fullmatch(r"\S(.*\S)?", name) is not None)  # TaskSpec.name's pattern


@st.composite
def configs(draw: st.DrawFn) -> ExperimentConfig:
    test_size = draw(st.floats(0.05, 0.6))
    task_names = draw(st.lists(names, min_size=1, max_size=3, unique=True))
    kinds = [draw(st.sampled_from(["regression", "binary", "multiclass"])) for _ in task_names]
    strategy = draw(st.sampled_from([{"name": "equal"}, {"name": "static", "weights": [1.0] * len(task_names)},
                                     {"name": "static", "weights": {task_names[0]: 0.5}}]))
    return ExperimentConfig.from_dict({
        "data": {"dataset": draw(st.sampled_from(["diabetes", "wine-red"])), "test_size": test_size,
                 "val_size": draw(st.floats(0.0, 0.35)), "split_seed": draw(st.integers(0, 2**31 - 1)),
                 "stratify": draw(st.booleans())},
        "tasks": [{"name": name, "column": draw(texts), "kind": kind} for name, kind in zip(task_names, kinds)],
        "model": {"hidden": draw(st.lists(st.integers(1, 512), min_size=1, max_size=4)),
                  "dropout": draw(st.floats(0.0, 0.9))},
        "strategy": strategy,
        "train": {"epochs": draw(st.integers(1, 1000)), "lr": draw(st.floats(1e-6, 10.0)),
                  "batch_size": draw(st.integers(0, 4096)), "optimizer": draw(st.sampled_from(["adam", "sgd"])),
                  "clip_grad_norm": draw(st.none() | st.floats(1e-3, 1e3))},
    })


@settings(max_examples=80, deadline=None)
@given(config=configs())
def test_a_config_round_trips_through_its_json_dict(config: ExperimentConfig) -> None:
    assert ExperimentConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config


@settings(max_examples=80, deadline=None)
@given(config=configs())
def test_a_config_round_trips_through_toml(config: ExperimentConfig) -> None:
    assert ExperimentConfig.from_dict(tomllib.loads(config.to_toml())) == config


@settings(max_examples=80, deadline=None)
@given(config=configs(), epochs=st.integers(1, limits.MAX_EPOCHS), hidden=st.lists(st.integers(1, 64), min_size=1, max_size=3))
def test_overrides_on_a_valid_config_change_only_their_keys(config: ExperimentConfig, epochs: int,
                                                            hidden: list[int]) -> None:
    changed = config.with_overrides([f"train.epochs={epochs}", f"model.hidden={json.dumps(hidden)}"])
    assert changed.train.epochs == epochs and changed.model.hidden == tuple(hidden)
    assert changed.data == config.data and changed.tasks == config.tasks and changed.strategy == config.strategy
