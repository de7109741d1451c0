"""Repairing settings instead of refusing them: each bad value is clamped, corrected or reset, with a warning.

A share link (``mtl_core.share``) is read this way, so that any address opens a working page. The
config file and the CLI keep refusing bad values with a ``ConfigError``: there the user can fix them.

>>> from mtl_core.config import TrainConfig
>>> notes = Notes()
>>> repair(TrainConfig, {"epochs": (0, "0"), "optimizer": ("adma", "adma")}, "train", notes)
{'epochs': 1, 'optimizer': 'adam'}
>>> notes.all()[1]
"train.optimizer = 'adma': Input should be 'adam', 'adamw' or 'sgd'; using 'adam'"
"""

from __future__ import annotations

import difflib
import math
import re
import types
import typing
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from mtl_core.bounds import limit_note

BOUNDS = {"greater_than": "gt", "greater_than_equal": "ge", "less_than": "lt", "less_than_equal": "le"}
INSIDE = 1e-3  # a value "just inside" an open bound b is b ± INSIDE·max(1, |b|)


class Notes:
    """Warnings keyed by setting, in order; a later warning about the same setting replaces the earlier one."""

    def __init__(self) -> None:
        self._notes: dict[str, str] = {}

    def add(self, key: str, text: str) -> None:
        """Record (or replace) the warning about ``key``."""
        self._notes.pop(key, None)
        self._notes[key] = text

    def all(self) -> tuple[str, ...]:
        """The warnings, oldest first."""
        return tuple(self._notes.values())


def closest(text: str, names: list[str]) -> str | None:
    """The name ``text`` most likely means (same letters in another case, or a near spelling), else None.

    >>> closest("wine-rde", ["diabetes", "wine-red"]), closest("SGD", ["adam", "sgd"]), closest("xyz", ["adam"])
    ('wine-red', 'sgd', None)
    """
    by_lower = {name.lower(): name for name in names}
    if text.lower() in by_lower:
        return by_lower[text.lower()]
    match = difflib.get_close_matches(text.lower(), list(by_lower), n=1, cutoff=0.6)
    return by_lower[match[0]] if match else None


def repair(model: type[BaseModel], given: Mapping[str, tuple[Any, str]], prefix: str, notes: Notes) -> dict[str, Any]:
    """Values that ``model`` accepts, made from ``given`` ({key: (value, text as given)}).

    Out of range numbers take the nearest valid value, an unknown option the closest one, and
    anything else that fails its key's default; each change adds a warning naming ``prefix.key``.
    Keys that fit no value are left out, so the model's defaults apply.
    """
    values = {key: value for key, (value, _) in given.items()}
    texts = {key: text for key, (_, text) in given.items()}
    for _ in range(2 * len(values) + 1):  # every pass changes or drops a key; a clamped key may be dropped later
        try:
            model.model_validate(values)
            return values
        except ValidationError as error:
            if not _fix(model, values, texts, error, prefix, notes):
                break
    notes.add(prefix, f"{prefix}: the settings {', '.join(sorted(texts))} do not fit together; using the defaults")
    return {}


def _fix(model: type[BaseModel], values: dict[str, Any], texts: Mapping[str, str], error: ValidationError,
         prefix: str, notes: Notes) -> bool:
    """Change or drop each key a problem names (once per pass); False when no problem names a given key."""
    changed: set[str] = set()
    for problem in error.errors():
        key = str(problem["loc"][0]) if problem["loc"] else _rule_key(problem["msg"], values)
        if key is None or key in changed or key not in values:
            continue
        changed.add(key)
        where, message = f"{prefix}.{key}", problem["msg"].removeprefix("Value error, ")
        shown = f"{where} = {texts.get(key, values[key])!r}"
        if problem["type"] == "extra_forbidden":
            match = closest(key, list(model.model_fields))
            notes.add(where, f"{where}: unknown setting; ignored{f'. Did you mean {match!r}?' if match else ''}")
            del values[key]
            continue
        replacement = _replacement(model, key, values[key], problem)
        if replacement is not None:
            values[key] = replacement[0]
            if problem["type"] == "less_than_equal" and (note := limit_note(model.model_fields.get(key))):
                message = note  # names the limit and the variable that raises it
            notes.add(where, f"{shown}: {message}; using {_shown(replacement[0])}")
        else:
            del values[key]
            default = model.model_fields[key].get_default(call_default_factory=True)
            notes.add(where, f"{shown}: {_rule_text(message)}; using the default {_shown(default)}")
    return bool(changed)


def _replacement(model: type[BaseModel], key: str, value: Any, problem: Any) -> tuple[Any] | None:
    """(nearest valid value,) for an out-of-range number or a misspelt option, else None (take the default)."""
    if len(problem["loc"]) == 1 and problem["type"] in BOUNDS:
        bound = problem["ctx"][BOUNDS[problem["type"]]]
        clamped = _clamp(bound, BOUNDS[problem["type"]], _is_int(model.model_fields[key].annotation))
        return None if clamped == value else (clamped,)
    if len(problem["loc"]) == 2 and problem["type"] in BOUNDS and isinstance(value, list | tuple):
        index, bound = problem["loc"][1], problem["ctx"][BOUNDS[problem["type"]]]  # one item of a list: clamp it
        if isinstance(index, int) and 0 <= index < len(value) and isinstance(value[index], int | float):
            clamped = _clamp(bound, BOUNDS[problem["type"]], isinstance(value[index], int))
            return ([*value[:index], clamped, *value[index + 1:]],)
    if len(problem["loc"]) == 1 and problem["type"] == "literal_error":
        options = _literal_options(model.model_fields[key].annotation)
        match = closest(str(value), [str(option) for option in options])
        found = next((option for option in options if str(option) == match), None)
        return None if found is None or found == value else (found,)
    return None


def _clamp(bound: float, kind: str, integer: bool) -> float:
    """The valid value nearest to the far side of ``bound`` (for gt and lt: just inside it)."""
    if integer:
        return {"ge": math.ceil(bound), "gt": math.floor(bound) + 1,
                "le": math.floor(bound), "lt": math.ceil(bound) - 1}[kind]
    step = INSIDE * max(1.0, abs(bound))
    return {"ge": bound, "gt": bound + step, "le": bound, "lt": bound - step}[kind]


def _is_int(annotation: Any) -> bool:
    """True for ``int`` and ``int | None`` (not bool)."""
    return annotation is int or int in _union_members(annotation)


def _literal_options(annotation: Any) -> list[Any]:
    """The options of a Literal annotation, also inside ``Literal[...] | None``."""
    options: list[Any] = []
    for member in [annotation, *_union_members(annotation)]:
        if typing.get_origin(member) is Literal:
            options.extend(typing.get_args(member))
    return options


def _union_members(annotation: Any) -> tuple[Any, ...]:
    origin = typing.get_origin(annotation)
    return typing.get_args(annotation) if origin is typing.Union or origin is types.UnionType else ()


def _rule_key(message: str, values: Mapping[str, Any]) -> str | None:
    """The given key to reset for a rule over several fields ("@val_size: test_size + val_size ..."):
    the field the rule names when it was given, else the first given field its message mentions."""
    text = message.removeprefix("Value error, ")
    named = re.match(r"@(\w+):", text)
    candidates = [named.group(1)] if named else []
    candidates += [key for key in values if re.search(rf"\b{re.escape(key)}\b", text)]
    return next((key for key in candidates if key in values), None)


def _rule_text(message: str) -> str:
    """A rule's message without its '@field: ' tag."""
    return re.sub(r"^@\w+: ", "", message).replace("; @", "; ")


def _shown(value: Any) -> str:
    """A value as a warning shows it: tuples as lists, None as 'none'."""
    if value is None:
        return "none"
    return repr(list(value) if isinstance(value, tuple) else value)
