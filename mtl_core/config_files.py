"""Reading a config file (TOML, YAML or JSON) into a plain nested mapping, with one-line errors."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import yaml

from mtl_core.errors import ConfigError


def read_config_file(path: str | Path) -> dict[str, Any]:
    """The raw nested mapping in a .toml, .yaml/.yml or .json file."""
    file = Path(path)
    if not file.is_file():
        raise ConfigError(f"config file {str(file)!r} does not exist")
    text = file.read_text(encoding="utf-8")
    suffix = file.suffix.lower()
    try:
        if suffix == ".toml":
            values = tomllib.loads(text)
        elif suffix in (".yaml", ".yml"):
            values = yaml.safe_load(text) or {}
        elif suffix == ".json":
            values = json.loads(text)
        else:
            raise ConfigError(f"config file {file.name!r}: unknown format {suffix!r}; use .toml, .yaml, .yml or .json")
    except (tomllib.TOMLDecodeError, yaml.YAMLError, json.JSONDecodeError) as error:
        raise ConfigError(f"config file {file.name!r} cannot be parsed: {error}") from None
    if not isinstance(values, dict):
        raise ConfigError(f"config file {file.name!r} must hold a table of settings at its top level")
    return values
