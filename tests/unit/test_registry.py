"""Registry: names map to entries once; an unknown name suggests the closest ones and lists them all."""

from __future__ import annotations

from typing import Any

import pytest

from mtl_core.errors import ConfigError, UnknownNameError
from mtl_core.registry import Registry


@pytest.fixture
def colours() -> Registry[int]:
    registry = Registry[int]("colour")
    for value, name in enumerate(["red", "purple", "blue", "yellow"]):
        registry.register(name)(value)
    return registry


def test_a_registered_name_gives_its_entry(colours: Registry[int]) -> None:
    assert colours.get("purple") == 1
    assert "blue" in colours and "green" not in colours
    assert len(colours) == 4


def test_register_returns_its_target_unchanged() -> None:
    registry = Registry[type]("thing")

    @registry.register("mine")
    class Mine:
        pass

    assert registry.get("mine") is Mine


def test_names_are_sorted_and_iteration_follows_them(colours: Registry[int]) -> None:
    assert colours.names() == ["blue", "purple", "red", "yellow"]
    assert list(colours) == colours.names()


def test_unknown_name_suggests_the_closest_and_lists_every_name(colours: Registry[int]) -> None:
    with pytest.raises(UnknownNameError) as caught:
        colours.get("purpel")
    message = str(caught.value)
    assert "no colour named 'purpel'" in message
    assert "Did you mean 'purple'?" in message
    assert "Available: blue, purple, red, yellow" in message


def test_unknown_name_far_from_every_name_lists_them_without_a_guess(colours: Registry[int]) -> None:
    with pytest.raises(UnknownNameError) as caught:
        colours.get("zzzzzzzz")
    assert "Did you mean" not in str(caught.value)
    assert "Available: blue, purple, red, yellow" in str(caught.value)


def test_unknown_name_message_starts_with_the_setting_it_came_from(colours: Registry[int]) -> None:
    with pytest.raises(UnknownNameError, match=r"^paint\.colour = 'rde': no colour named 'rde'\. Did you mean 'red'\?"):
        colours.get("rde", key="paint.colour")


def test_a_name_cannot_be_registered_twice(colours: Registry[int]) -> None:
    with pytest.raises(ValueError, match="colour 'red' is registered twice"):
        colours.register("red")(99)
    assert colours.get("red") == 0  # the first registration stands


def test_an_entrys_hyper_parameters_are_the_keywords_of_its_callable() -> None:
    def paint(*, coats: int = 1) -> str:
        return "painted" * coats

    registry = Registry[Any]("brush", settings_of=lambda entry: entry["apply"])
    registry.register("wide")({"apply": paint})
    assert registry.available() == ["wide"]
    assert registry.validate("wide", {"coats": 2}, "paint") == {"coats": 2}
    assert registry.schema("wide")["properties"]["coats"]["default"] == 1
    with pytest.raises(ConfigError, match=r"^paint\.cots: brush 'wide' has no such hyper-parameter\. Did you mean"):
        registry.validate("wide", {"cots": 2}, "paint")
