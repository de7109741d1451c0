"""The error hierarchy: one base, and the built-in a caller would expect."""

from __future__ import annotations

import pytest

from mtl_core.errors import ConfigError, DataError, MTLError, UnknownNameError


@pytest.mark.parametrize("error", [ConfigError, DataError, UnknownNameError])
def test_every_user_error_is_an_mtl_error_and_a_value_error(error: type[Exception]) -> None:
    assert issubclass(error, MTLError) and issubclass(error, ValueError)


def test_an_unknown_name_is_a_config_error() -> None:
    assert issubclass(UnknownNameError, ConfigError)
    assert not issubclass(DataError, ConfigError)


def test_a_long_value_or_name_is_quoted_at_most_200_characters_in_a_message() -> None:
    from mtl_core.config import ExperimentConfig
    from mtl_core.experiment import check
    from mtl_core.weighting import create

    long = "y" * 5_000
    for settings in ({"strategy": {"name": "rlw", "seed": long}}, {"strategy": {"name": "rlw", long: 1}},
                     {"strategy": {"name": long}}, {"model": {"architecture": long}}):
        with pytest.raises(ConfigError) as raised:
            check(ExperimentConfig.from_dict(settings))
        assert "y" * 201 not in str(raised.value) and "…" in str(raised.value)
    with pytest.raises(ConfigError) as raised:
        create(long)
    assert "y" * 201 not in str(raised.value)
