"""Reading a config file (TOML, YAML or JSON) into a plain nested mapping, with one-line errors.

Hostile files are refused in bounded time and memory, each with one line that names the file and never
quotes its contents: a file over ``MAX_CONFIG_BYTES``, bytes that are not UTF-8 (the offset of the first
bad byte is given), nesting deeper than ``MAX_DEPTH``, more than ``MAX_VALUES`` values (YAML aliases
counted as expanded, so a 1 KB "billion laughs" is refused before anything expands it), a YAML alias
to itself, an integer beyond 64 bits (Python refuses to read one of over 4,300 digits), keys that are
not text, and values that are not text, numbers, booleans, lists or tables (TOML and YAML dates, YAML
binary and sets).
"""

from __future__ import annotations

import codecs
import json
import re
import tomllib
from pathlib import Path
from typing import Any

import yaml

from mtl_core.errors import ConfigError

MAX_CONFIG_BYTES = 100_000  # a real config is a few KB; PyYAML reads about 20 KB a second at worst
MAX_DEPTH = 32  # tables and lists inside each other; a config needs 4
MAX_VALUES = 20_000  # values in the whole file, YAML aliases counted each time they are used
MAX_INT_BITS = 64  # no setting needs a larger whole number (seeds stop at 2**31 - 1)
PLAIN = (str, int, float, bool, type(None))
_QUOTED = re.compile(r"('[^']{40,}'|\"[^\"]{40,}\")")


def read_config_file(path: str | Path) -> dict[str, Any]:
    """The raw nested mapping in a .toml, .yaml/.yml or .json file; ConfigError (one line) for any bad file."""
    file = Path(path)
    name = _name(file)
    suffix = file.suffix.lower()
    if suffix not in (".toml", ".yaml", ".yml", ".json"):
        raise ConfigError(f"config file {name}: unknown format {_name(suffix)}; use .toml, .yaml, .yml or .json")
    values = _parse(_read_text(file, name), suffix, name)
    if not isinstance(values, dict):
        raise ConfigError(f"config file {name} must hold a table of settings at its top level")
    _check_values(values, f"config file {name}")
    return values


def _name(file: Path | str) -> str:
    text = repr(file.name if isinstance(file, Path) else file)
    return text if len(text) <= 200 else text[:199] + "…"


def _read_text(file: Path, name: str) -> str:
    """The file's text: at most MAX_CONFIG_BYTES of UTF-8 (a byte-order mark is skipped)."""
    try:
        exists, regular = file.exists(), file.is_file()
        data = b""
        if regular:
            with file.open("rb") as stream:
                data = stream.read(MAX_CONFIG_BYTES + 1)
    except (OSError, ValueError) as error:  # ValueError: a NUL byte in the path
        reason = error.strerror if isinstance(error, OSError) and error.strerror else "not a usable path"
        raise ConfigError(f"config file {name} cannot be read: {reason}") from None
    if not exists:
        raise ConfigError(f"config file {name} does not exist")
    if not regular:
        raise ConfigError(f"config file {name} is not a file; give a .toml, .yaml or .json file")
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError(f"config file {name} is larger than {MAX_CONFIG_BYTES:,} bytes; a config is a few KB")
    skip = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        return data[skip:].decode("utf-8")
    except UnicodeDecodeError as error:
        offset = skip + error.start
        raise ConfigError(f"config file {name} is not UTF-8 text: byte 0x{data[offset]:02x} at offset {offset} "
                          f"cannot be decoded. Save the file as UTF-8.") from None


def _parse(text: str, suffix: str, name: str) -> Any:
    """The parsed value; ConfigError with the parser's reason and position, never the text around it."""
    kind = {".toml": "TOML", ".json": "JSON"}.get(suffix, "YAML")
    try:
        if suffix == ".toml":
            return tomllib.loads(text)
        if suffix == ".json":
            return json.loads(text)
        return _load_yaml(text, name)
    except ConfigError:
        raise
    except json.JSONDecodeError as error:
        reason = f"{error.msg} at line {error.lineno}, column {error.colno}"
    except tomllib.TOMLDecodeError as error:
        reason = str(error)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        reason = f"{error.problem or error.context or 'invalid YAML'}{where}"
    except yaml.YAMLError:
        reason = "invalid YAML"
    except RecursionError:
        reason = f"it is nested too deeply (at most {MAX_DEPTH} levels of tables and lists)"
    except (ValueError, OverflowError) as error:
        digits = "integer string conversion" in str(error)
        reason = (f"it holds an integer too long to read (at most {MAX_INT_BITS} bits)" if digits
                  else f"it holds a value that cannot be read ({type(error).__name__})")
    raise ConfigError(f"config file {name} cannot be parsed as {kind}: {_clean(reason)}") from None


def _clean(reason: str) -> str:
    """One line of at most 200 characters, long quoted tokens cut."""
    text = " ".join(_QUOTED.sub(lambda found: found.group(1)[:30] + "…" + found.group(1)[0], reason).split())
    return text if len(text) <= 200 else text[:199] + "…"


class _YamlLoader(yaml.SafeLoader):
    """PyYAML's safe loader (no Python objects) that stops composing past MAX_DEPTH levels or MAX_VALUES values."""

    depth_, nodes_, name_ = 0, 0, "''"

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        self.depth_, self.nodes_ = self.depth_ + 1, self.nodes_ + 1
        try:
            if self.depth_ > MAX_DEPTH + 1:
                raise RecursionError("nested too deeply")
            if self.nodes_ > MAX_VALUES:
                raise ConfigError(f"config file {self.name_} holds more than {MAX_VALUES:,} values; a config holds "
                                  f"a few dozen")
            return super().compose_node(parent, index)  # type: ignore[no-any-return]
        finally:
            self.depth_ -= 1


def _load_yaml(text: str, name: str) -> Any:
    """The YAML document's value, after its node graph is checked: depth, expanded size, no alias to itself."""
    loader = _YamlLoader(text)
    loader.name_ = name
    try:
        node = loader.get_single_node()
        if node is None:
            return {}
        _expanded(node, 0, {}, set(), name)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _expanded(node: yaml.Node, depth: int, done: dict[int, tuple[int, int]], open_: set[int],
              name: str) -> tuple[int, int]:
    """(values, height) of a node with every alias expanded; memoised, so a billion laughs costs its size."""
    key = id(node)
    if key in done:
        size, height = done[key]
    elif key in open_:
        raise ConfigError(f"config file {name}: a YAML alias at line {node.start_mark.line + 1} refers to a "
                          f"value that contains it; settings cannot contain themselves")
    else:
        open_.add(key)
        children = node.value if isinstance(node, yaml.SequenceNode) else \
            [part for pair in node.value for part in pair] if isinstance(node, yaml.MappingNode) else []
        size, height = 1, 0
        for child in children:
            child_size, child_height = _expanded(child, depth + 1, done, open_, name)
            size, height = size + child_size, max(height, child_height + 1)
            if size > MAX_VALUES:
                raise ConfigError(f"config file {name} holds more than {MAX_VALUES:,} values (YAML aliases "
                                  f"counted each time they are used); a config holds a few dozen")
        open_.discard(key)
        done[key] = (size, height)
    if depth + height > MAX_DEPTH:
        raise ConfigError(f"config file {name} is nested too deeply (at most {MAX_DEPTH} levels of tables and "
                          f"lists)")
    return size, height


def _check_values(values: dict[str, Any], source: str) -> None:
    """ConfigError for a key that is not text, a value of another kind, a huge integer, too deep or too many."""
    pending: list[tuple[Any, str, int]] = [(values, "", 0)]
    count = 0
    while pending:
        value, where, depth = pending.pop()
        count += 1
        if depth > MAX_DEPTH or count > MAX_VALUES:
            raise ConfigError(f"{source} is nested too deeply or holds too many values (at most "
                              f"{MAX_DEPTH} levels and {MAX_VALUES:,} values)")
        if isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, str):
                    raise ConfigError(f"{source}: a key {_at(where)} is {type(key).__name__}, not text; "
                                      f"quote it")
                pending.append((item, f"{where}.{key}" if where else key, depth + 1))
        elif isinstance(value, list):
            pending.extend((item, f"{where}.{index}", depth + 1) for index, item in enumerate(value))
        elif isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > MAX_INT_BITS:
            raise ConfigError(f"{source}: {_key(where)} holds an integer of {value.bit_length()} bits; "
                              f"at most {MAX_INT_BITS} bits are read")
        elif not isinstance(value, PLAIN):
            raise ConfigError(f"{source}: {_key(where)} holds a {type(value).__name__}; settings are "
                              f"text, numbers, true/false, lists and tables (quote it to give text)")


def check_override(override: str) -> None:
    """ConfigError for a ``--set KEY=VALUE`` whose value JSON would read as too long, too deep or a huge integer.

    Values that are not JSON are text, as ``config.parse_value`` reads them; this only refuses what would
    otherwise stop it with a traceback.

    >>> check_override("train.seed=" + "9" * 5000)
    Traceback (most recent call last):
    ...
    mtl_core.errors.ConfigError: --set train.seed: the value holds an integer too long to read (at most 64 bits)
    """
    key, _, raw = override.partition("=")
    source = f"--set {_key(key.strip())}"
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{source}: the value is longer than {MAX_CONFIG_BYTES:,} characters")
    try:
        value = json.loads(raw)
    except RecursionError:
        raise ConfigError(f"{source}: the value is nested too deeply (at most {MAX_DEPTH} levels)") from None
    except ValueError as error:
        if "integer string conversion" in str(error):
            raise ConfigError(f"{source}: the value holds an integer too long to read (at most {MAX_INT_BITS} bits)") \
                from None
        return  # not JSON: read as text
    _check_values({"value": value}, source)


def _key(where: str) -> str:
    text = where or "the top level"
    return text if len(text) <= 100 else text[:99] + "…"


def _at(where: str) -> str:
    return f"in {_key(where)}" if where else "at the top level"
