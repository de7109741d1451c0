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
