"""The share link: every setting that defines an experiment lives in the URL's query string.

``to_query`` writes the settings that differ from ``ExperimentConfig()`` as the dotted keys of the
CLI's ``--set`` (``train.epochs=20``, ``tasks.0.threshold=6``), with values that ``parse_value``
reads back. ``from_query`` reads any query string back without raising: what it cannot use it
repairs or leaves at its default, and says so in ``warnings``.

>>> query = to_query(ExperimentConfig.from_dict({"data": {"dataset": "wine-red"}, "model": {"hidden": [32]}}))
>>> query
{'data.dataset': 'wine-red', 'model.hidden': '[32]'}
>>> from_query(query).config.model.hidden
(32,)
>>> from_query({"train.epochs": "0"}).warnings
("train.epochs = '0': Input should be greater than or equal to 1; using 1",)
"""

from __future__ import annotations

import json
import math
import re
import shlex
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from pydantic import BaseModel, ValidationError

from mtl_core.config import (
    DataConfig, ExperimentConfig, ModelConfig, TrainConfig, describe_validation_error, parse_value,
)
from mtl_core.data import DATASETS
from mtl_core.errors import ConfigError
from mtl_core.models import ARCHITECTURES, architecture_params
from mtl_core.repair import Notes, closest, repair
from mtl_core.tasks import TaskSpec
from mtl_core.weighting import STRATEGIES, create

__all__ = ["SharedSetup", "cli_command", "from_query", "query_string", "to_query"]

NOT_IN_LINKS = frozenset({"data.path"})  # a local or uploaded file cannot travel in a link
IGNORED_KEYS = frozenset({"embed", "embed_options",  # Streamlit's own query parameters
                          "run"})  # a stored run's id, opened read-only by the Runs page
OTHER_PREFIXES = ("compare.",)  # settings of a comparison, read by mtl_core.compare.settings
MAX_KEYS = 200  # parameters read from one link; a setup has far fewer (the rest are ignored with one warning)
MAX_KEY_CHARS = 100  # longer keys name no setting
MAX_VALUE_CHARS = 1_000  # longer values are dropped: no setting needs more (a long list of units is past MAX_UNITS)
MAX_DEPTH = 3  # lists or tables nested deeper are dropped: a setting nests at most [[1, 0], [0, 1]]
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_INDEX = re.compile(r"[0-9]{1,6}")


@dataclass(frozen=True)
class SharedSetup:
    """What a link holds: a valid config, what was changed to make it valid, and whether it named a file."""

    config: ExperimentConfig
    warnings: tuple[str, ...] = ()
    uses_upload: bool = False  # the link came from a run on an uploaded or local file: upload it again


def to_query(config: ExperimentConfig) -> dict[str, str]:
    """The settings that differ from the defaults, as ``--set`` keys in the order data, tasks, model, strategy, train.

    Tasks appear only when the config lists them; ``data.path`` never does.

    >>> to_query(ExperimentConfig.from_dict({"strategy": {"name": "gradnorm", "alpha": 0.5}, "train": {"lr": 1e-3}}))
    {'strategy.name': 'gradnorm', 'strategy.alpha': '0.5', 'train.lr': '0.001'}
    """
    values, defaults = config.to_dict(), ExperimentConfig().to_dict()
    query: dict[str, str] = {}
    for section in ("data", "tasks", "model", "strategy", "train"):
        if section == "tasks":
            for index, task in enumerate(config.tasks):
                query.update(_task_query(index, task))
            continue
        for key, value in values[section].items():
            dotted = f"{section}.{key}"
            if dotted == "data.params":
                query.update({f"{dotted}.{name}": encode(item) for name, item in value.items()})
            elif dotted not in NOT_IN_LINKS and (key not in defaults[section] or value != defaults[section][key]):
                query[dotted] = encode(value)
    return query


def _task_query(index: int, task: TaskSpec) -> dict[str, str]:
    """A task's name and column, its kind unless regression, and each setting its kind does not fill in."""
    filled = TaskSpec(name=task.name, column=task.column, kind=task.kind).model_dump(mode="json")
    plain = {**filled, "kind": "regression"}
    return {f"tasks.{index}.{key}": encode(value) for key, value in task.model_dump(mode="json").items()
            if key in ("name", "column") or value != plain[key]}


def encode(value: Any) -> str:
    """Text that ``parse_value`` (and ``from_query``) reads back as ``value``: JSON, or a plain string as it is.

    >>> encode([64, 64]), encode("wine-red"), encode("2010"), encode(True)
    ('[64,64]', 'wine-red', '"2010"', 'true')
    """
    if isinstance(value, str) and value and read_value(value) == value:
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def read_value(text: str) -> Any:
    """A link's value: ``parse_value`` of the stripped text; ``64,32`` (numbers and commas) is a list too.

    >>> read_value(" 64,32 "), read_value("[64, 32]"), read_value("adam")
    ([64, 32], [64, 32], 'adam')
    """
    text = text.strip()
    value = parse_value(text)
    if isinstance(value, str) and "," in text:
        parts = [parse_value(part.strip()) for part in text.split(",")]
        if all(isinstance(part, (int, float)) and not isinstance(part, bool) for part in parts):
            return parts
    return value


def query_string(config: ExperimentConfig) -> str:
    """``to_query`` URL-encoded, to append to the page's address after ``?``.

    >>> query_string(ExperimentConfig.from_dict({"model": {"hidden": [32, 16]}, "train": {"epochs": 5}}))
    'model.hidden=%5B32,16%5D&train.epochs=5'
    """
    return urlencode(to_query(config), quote_via=quote, safe=",:")


def cli_command(config: ExperimentConfig, config_name: str = "experiment.toml") -> str:
    """The command line that runs the same experiment without the dashboard.

    Save ``config.to_toml()`` as ``config_name`` (the page offers it as a download), then run the
    command in a shell where MTL Lab is installed: ``python -m mtl_core run`` trains the experiment
    the file describes and ``--out`` writes its results (config, metrics, per-epoch history,
    predictions) as JSON. A config that reads a local file (``data.path``) needs that file at the
    same path on the machine that runs it.

    >>> cli_command(ExperimentConfig())
    'python -m mtl_core run experiment.toml --out results.json'
    >>> cli_command(ExperimentConfig(), "my run.toml")
    "python -m mtl_core run 'my run.toml' --out results.json"
    """
    del config  # the file holds every setting: the command is the same for any config
    return f"python -m mtl_core run {shlex.quote(config_name)} --out results.json"


def from_query(params: Mapping[str, str | Sequence[str]]) -> SharedSetup:
    """The experiment a query string describes; never raises.

    Repeated keys use their last value. What cannot be used is repaired, each time with a warning
    naming the key, the value given and the value used: an unknown key is dropped (with the
    closest known key), an out-of-range number is clamped to its bound, an unknown name takes the
    closest registered one (or the default), and any other bad value takes the default. A task
    entry that is not a valid task is left out. ``data.path`` is never read from a link.
    """
    notes = Notes()
    given = _last_values(params, notes)
    sections = _sort_keys(given, notes)
    values: dict[str, Any] = {
        "data": _data(sections["data"], sections["data.params"], notes),
        "tasks": _tasks(sections["tasks"], notes),
        "model": _model(sections["model"], notes),
        "strategy": _strategy(sections["strategy"], notes),
        "train": repair(TrainConfig, sections["train"], "train", notes),
    }
    return SharedSetup(_assemble(values, notes), notes.all(), uses_upload="data.path" in given)


def _last_values(params: Mapping[str, str | Sequence[str]], notes: Notes) -> dict[str, str]:
    """Each key's last value as text; keys stripped; Streamlit's own keys left out."""
    given: dict[str, str] = {}
    for raw_key, raw in params.items():
        key = str(raw_key).strip()
        if key in IGNORED_KEYS or key.startswith(OTHER_PREFIXES):
            continue
        if len(given) == MAX_KEYS:
            notes.add("link", f"the link has more than {MAX_KEYS} parameters; the rest are ignored")
            break
        text = raw if isinstance(raw, str) else str(raw[-1]) if isinstance(raw, Sequence) and len(raw) > 0 else None
        if text is None:
            notes.add(_short(key), f"{_short(key)}: no value given; ignored")
        elif len(key) > MAX_KEY_CHARS:
            notes.add(_short(key), f"{_short(key)}: no setting has a name this long ({len(key):,} characters); ignored")
        elif len(text) > MAX_VALUE_CHARS or _depth(text) > MAX_DEPTH:
            notes.add(key, f"{key} = {_short(text)!r}: longer than {MAX_VALUE_CHARS:,} characters or nested deeper "
                           f"than {MAX_DEPTH} levels, which no setting takes; using the default")
        else:
            given[key] = text
    return given


def _depth(text: str) -> int:
    """How deep the lists and tables of JSON text nest (brackets inside strings do not count), without recursion.

    >>> _depth('[[1, 0], [0, 1]]'), _depth('{"a": "[[["}'), _depth('adam')
    (2, 1, 0)
    """
    depth = deepest = 0
    quoted = escaped = False
    for char in text:
        if escaped:
            escaped = False
        elif quoted:
            escaped, quoted = char == "\\", char != '"'
        elif char == '"':
            quoted = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _sort_keys(given: Mapping[str, str], notes: Notes) -> dict[str, Any]:
    """Values read from text, by section: ``tasks`` by index; unknown keys dropped with a suggestion."""
    sections: dict[str, Any] = {"data": {}, "data.params": {}, "tasks": {}, "model": {}, "strategy": {}, "train": {}}
    for key, text in given.items():
        slot = _slot(key.split("."))
        if key in NOT_IN_LINKS:
            notes.add(key, f"{key}: the link was made from a run on an uploaded or local file, which cannot "
                           f"travel in a link; upload the file again (the link's other settings still apply)")
        elif slot is None:
            notes.add(key, f"{_short(key)}: unknown setting; ignored{_key_hint(key)}")
        elif (value := _checked_value(key, text, notes)) is not _MALFORMED:
            section, path = slot
            target = sections[section]
            for part in path[:-1]:
                target = target.setdefault(part, {})
            target[path[-1]] = (value, _short(text))
    return sections


def _slot(parts: list[str]) -> tuple[str, tuple[Any, ...]] | None:
    """Where a key's value goes: its section and the path within it (``tasks``: index, field); None if unknown."""
    if len(parts) == 2 and parts[0] in ("data", "train") and parts[1] in _fields(parts[0]):
        return parts[0], (parts[1],)
    if len(parts) == 2 and parts[0] in ("model", "strategy") and _NAME.fullmatch(parts[1]):
        return parts[0], (parts[1],)
    if len(parts) == 3 and parts[:2] == ["data", "params"] and _NAME.fullmatch(parts[2]):
        return "data.params", (parts[2],)
    if len(parts) == 3 and parts[0] == "tasks" and _INDEX.fullmatch(parts[1]) and parts[2] in TaskSpec.model_fields:
        return "tasks", (int(parts[1]), parts[2])
    return None


def _short(text: str, limit: int = 60) -> str:
    """Text as a warning quotes it: long junk cut to ``limit`` characters."""
    return text if len(text) <= limit else text[:limit - 3] + "..."


class _Malformed:
    """Marks a value that no setting can take (nested too deep, not finite)."""


_MALFORMED = _Malformed()


def _checked_value(key: str, text: str, notes: Notes) -> Any:
    """The value read from ``text``, or ``_MALFORMED`` (with a warning) when it is not finite or too deep."""
    try:
        value = read_value(text)
    except RecursionError:
        value = _MALFORMED
    if value is _MALFORMED or not _finite(value):
        notes.add(key, f"{_short(key)} = {_short(text)!r}: not a usable value (numbers must be finite); "
                       f"using the default")
        return _MALFORMED
    return value


def _finite(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list):
        return all(_finite(item) for item in value)
    if isinstance(value, dict):
        return all(_finite(item) for item in value.values())
    return True


def _fields(section: str) -> dict[str, Any]:
    sections: dict[str, type[BaseModel]] = {"data": DataConfig, "train": TrainConfig, "model": ModelConfig}
    model = sections[section]
    return {name: field for name, field in model.model_fields.items() if f"{section}.{name}" not in NOT_IN_LINKS}


def _key_hint(key: str) -> str:
    """'. Did you mean ...?' with the closest known key, or nothing."""
    parts = key.split(".")
    index = parts[1] if len(parts) > 1 and _INDEX.fullmatch(parts[1]) else "0"
    known = [f"{section}.{name}" for section in ("data", "model", "train") for name in _fields(section)]
    known += ["strategy.name", *(f"tasks.{index}.{name}" for name in TaskSpec.model_fields)]
    match = closest(key.lower(), known)
    return f". Did you mean {match!r}?" if match else ""


def _data(given: dict[str, Any], params: dict[str, Any], notes: Notes) -> dict[str, Any]:
    """The data section: a known data set name (or the closest), valid split settings, the set's own parameters."""
    if "dataset" in given:
        name = _registered_name("data.dataset", given.pop("dataset"), DATASETS, notes)
        if name is not None:
            given["dataset"] = (name, name)
    if "params" in given:  # data.params={"n_rows": 100}: one key per parameter, as data.params.n_rows=100
        value, text = given.pop("params")
        if isinstance(value, dict):
            params = {**{str(key): (item, encode(item)) for key, item in value.items()}, **params}
        else:
            notes.add("data.params", f"data.params = {text!r}: give a table of settings, e.g. data.params.n_rows=100; "
                                     f"using the data set's defaults")
    values = repair(DataConfig, given, "data", notes)
    if params:
        source = DATASETS.get(values.get("dataset") or DataConfig().source)
        values["params"], fitted = source.fit_size(repair(source.params, params, "data.params", notes))
        for key, note in fitted:  # rows × features and images × side² checked here, before anything is generated
            notes.add(key, note)
    return values


def _registered_name(key: str, given: tuple[Any, str], registry: Any, notes: Notes) -> str | None:
    """The name if registered, else the closest registered name (None: the default) with a warning."""
    value, text = given
    if value is None or isinstance(value, str) and value in registry:
        return value
    name = closest(str(value).strip().lower(), registry.names()) if isinstance(value, (str, int, float)) else None
    used = f"using {name!r}" if name is not None else "using the default"
    notes.add(key, f"{key} = {_short(text)!r}: {registry.unknown_message(_short(str(value)))}; {used}")
    return name


def _tasks(given: dict[int, dict[str, Any]], notes: Notes) -> list[dict[str, Any]]:
    """Valid task entries by index; an entry that is not a valid task, or repeats a name, is left out."""
    tasks: dict[str, dict[str, Any]] = {}
    for index in sorted(given):
        values = {key: value for key, (value, _) in given[index].items()}
        try:
            name = TaskSpec.model_validate(values).name
        except ValidationError as error:
            notes.add(f"tasks.{index}", f"tasks.{index}: {describe_validation_error(error)}; this task is left out")
            continue
        if name in tasks:
            notes.add(f"tasks.{index}", f"tasks.{index}: a task named {_short(name)!r} comes earlier; "
                                        f"this one is left out")
            continue
        tasks[name] = values
    return list(tasks.values())


def _model(given: dict[str, Any], notes: Notes) -> dict[str, Any]:
    """The model section: a known architecture, valid common settings, valid architecture settings."""
    if "architecture" in given:
        name = _registered_name("model.architecture", given.pop("architecture"), ARCHITECTURES, notes)
        if name is not None:
            given["architecture"] = (name, name)
    common = {key: item for key, item in given.items() if key in ModelConfig.model_fields}
    values = repair(ModelConfig, common, "model", notes)
    architecture = values.get("architecture", ModelConfig().architecture)
    defaults = architecture_params(ModelConfig(architecture=architecture)).model_dump()

    def check(hparams: dict[str, Any]) -> None:
        architecture_params(ModelConfig.model_validate({"architecture": architecture, **hparams}))

    own = {key: item for key, item in given.items() if key not in ModelConfig.model_fields}
    return {**values, **_hparams(own, check, defaults, "model", notes)}


def _strategy(given: dict[str, Any], notes: Notes) -> dict[str, Any]:
    """The strategy section: a known strategy name and the hyper-parameters ``create`` accepts."""
    values: dict[str, Any] = {}
    if "name" in given:
        name = _registered_name("strategy.name", given.pop("name"), STRATEGIES, notes)
        if name is not None:
            values["name"] = name
    name = values.get("name", "equal")
    try:
        defaults = create(name).hparams()
    except ConfigError:  # a strategy with a hyper-parameter that has no default
        defaults = {}

    def check(hparams: dict[str, Any]) -> None:
        create(name, **hparams)

    return {**values, **_hparams(given, check, defaults, "strategy", notes)}


def _hparams(given: dict[str, Any], check: Callable[[dict[str, Any]], None], defaults: Mapping[str, Any],
             section: str, notes: Notes) -> dict[str, Any]:
    """The hyper-parameters ``check`` accepts, tried all at once, then one by one (each bad one takes its default)."""
    values = {key: value for key, (value, _) in given.items()}
    try:
        check(values)
        return values
    except (ValueError, OverflowError):  # ConfigError, or a value past what PyTorch takes (a seed of 2**64)
        pass
    accepted: dict[str, Any] = {}
    for key, (value, text) in given.items():
        try:
            check({**accepted, key: value})
            accepted[key] = value
        except (ValueError, OverflowError) as error:
            used = f"using the default {_short(repr(defaults[key]))}" if key in defaults else "ignored"
            problem = str(error).split("; ")[0].replace(f" = {value!r}: ", f" = {_short(repr(value))}: ", 1)
            if not isinstance(error, ConfigError):
                problem = f"{section}.{key} = {_short(text)!r}: out of range ({_short(problem)})"
            given_text = "" if " = " in problem else f" (given {_short(text)!r})"
            notes.add(f"{section}.{key}", f"{problem}{given_text}; {used}")
    return accepted


def _assemble(values: dict[str, Any], notes: Notes) -> ExperimentConfig:
    """The config of the repaired sections, checked to survive ``to_dict`` and ``from_dict``."""
    try:
        return ExperimentConfig.from_dict(ExperimentConfig.from_dict(values).to_dict())
    except ConfigError as error:  # sections valid alone but not together: keep what is safe
        notes.add("config", f"the link's settings do not fit together ({error}); using the defaults")
        return ExperimentConfig()
