"""Hyper-parameters of strategies, architectures and data sets: declared one way, checked one way.

A registered callable declares its hyper-parameters as annotated keyword arguments with defaults
(pydantic ``Field`` limits and a ``description``): a strategy's ``__init__``, an architecture's
``__init__`` after ``(input_shape, heads, settings)``, a data set's ``load`` function. The
arguments a caller always passes (positional ones without a default) are not hyper-parameters.
``hparam_model`` turns the signature into a pydantic model, built once per callable; ``validate``
checks a mapping against it and words every problem the same way, under the key prefix the user
wrote (``strategy``, ``model``, ``data.params``); ``describe`` gives its JSON schema for forms.

>>> from typing import Annotated
>>> from pydantic import Field
>>> def load(*, rows: Annotated[int, Field(ge=10, description="how many rows")] = 100) -> None: ...
>>> validate(load, {"rows": 20}, "data.params", "data set 'toy'")
{'rows': 20}
>>> validate(load, {"rwos": 20}, "data.params", "data set 'toy'")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
mtl_core.errors.ConfigError: data.params.rwos: data set 'toy' has no such hyper-parameter. Did you mean 'rows'? ...
"""

from __future__ import annotations

import copy
import difflib
import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, create_model

from mtl_core.errors import ConfigError
from mtl_core.safe_text import shorten

_MODELS: dict[Callable[..., Any], type[BaseModel]] = {}  # create_model costs about a millisecond
_SCHEMAS: dict[Callable[..., Any], dict[str, Any]] = {}  # and a JSON schema about half of one
_TYPE_NAMES = frozenset({"str", "int", "float", "bool", "none"})


def _hparameters(target: Callable[..., Any]) -> list[inspect.Parameter]:
    """The keyword parameters of ``target`` that are hyper-parameters (see the module docstring)."""
    chosen = []
    for parameter in inspect.signature(target).parameters.values():
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD, parameter.POSITIONAL_ONLY):
            continue
        if parameter.kind is parameter.POSITIONAL_OR_KEYWORD and parameter.default is parameter.empty:
            continue  # an input of the call (input_shape, heads, settings), not a setting
        chosen.append(parameter)
    return chosen


def hparam_names(target: Callable[..., Any]) -> list[str]:
    """Names of the hyper-parameters of a strategy class, an architecture class or a load function."""
    return [parameter.name for parameter in _hparameters(target)]


def hparam_model(target: Callable[..., Any]) -> type[BaseModel]:
    """A pydantic model of ``target``'s hyper-parameters: annotations (with Field limits) and defaults."""
    if target not in _MODELS:
        function = target.__init__ if inspect.isclass(target) else target
        hints = inspect.get_annotations(function, eval_str=True) if hasattr(function, "__annotations__") else {}
        fields: dict[str, Any] = {}
        for parameter in _hparameters(target):
            default = ... if parameter.default is parameter.empty else parameter.default
            fields[parameter.name] = (hints.get(parameter.name, Any), default)
        name = getattr(target, "__name__", type(target).__name__).strip("<>_") or "hparams"
        _MODELS[target] = create_model(f"{name}Settings", __config__=ConfigDict(extra="forbid"), **fields)
    return _MODELS[target]


def describe(target: Callable[..., Any]) -> dict[str, Any]:
    """The JSON schema of ``target``'s hyper-parameters (a copy the caller may change)."""
    if target not in _SCHEMAS:
        _SCHEMAS[target] = hparam_model(target).model_json_schema()
    return copy.deepcopy(_SCHEMAS[target])


def validate(target: Callable[..., Any], values: Mapping[str, Any], prefix: str, owner: str,
             *, common: Sequence[str] = ()) -> dict[str, Any]:
    """The hyper-parameters for ``target`` (defaults filled in), or ConfigError naming ``<prefix>.<key>``.

    Args:
        owner: what takes them, as the message names it ("GradNorm", "architecture 'mmoe'").
        common: other keys of the same section, accepted elsewhere (``model.hidden``): suggested and listed.
    """
    try:
        return dict(hparam_model(target).model_validate(dict(values)))
    except ValidationError as error:
        raise ConfigError(format_errors(error, prefix, owner, hparam_names(target), common)) from None


def format_errors(error: ValidationError, prefix: str, owner: str, names: Sequence[str],
                  common: Sequence[str] = ()) -> str:
    """One clause per key: ``<key>: <owner> has no such hyper-parameter...`` or ``<key> = <value>: <what>``.

    A value that fails every member of a union is reported by the member it got furthest into
    (``weights.1 = -1.0`` rather than "not a dictionary"); members that fail at once are joined with "or".
    """
    problems: dict[str, list[str]] = {}
    for problem in _deepest_members(error.errors()):
        parts = [str(part) for part in problem["loc"] if not _is_type_tag(part)]
        key = ".".join([prefix, *parts])
        message = str(problem["msg"]).removeprefix("Value error, ")
        if problem["type"] == "extra_forbidden":
            problems[key] = [unknown_key(key, parts[-1], owner, names, common, prefix)]
        elif key not in problems:
            problems[key] = [f"{key} = {shorten(repr(problem['input']))}: {message}" if "input" in problem
                             else f"{key}: {message}"]
        elif _is_type_tag(problem["loc"][-1]) and message not in problems[key][0]:
            problems[key].append(message[:1].lower() + message[1:])  # another member of the union: "or ..."
    return "; ".join(", or ".join(clauses) for clauses in problems.values())


def unknown_key(key: str, given: str, owner: str, names: Sequence[str], common: Sequence[str] = (),
                section: str = "") -> str:
    """The clause for a key that ``owner`` does not take: the closest name, then what it takes."""
    close = difflib.get_close_matches(given[:200], [*names, *common], n=1, cutoff=0.6)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    also = f", besides the keys [{section}] always takes: {', '.join(common)}" if common else ""
    return f"{shorten(key)}: {owner} has no such hyper-parameter.{hint} It takes: {', '.join(names) or 'none'}{also}"


def _deepest_members(problems: Sequence[Any]) -> list[Any]:
    """Per field, drop the union members that failed less deep than another member of the same field."""
    def member(problem: Any) -> tuple[str, str] | None:
        loc = problem["loc"]
        tags = [index for index, part in enumerate(loc) if _is_type_tag(part)]
        return (str(loc[:tags[0]]), str(loc[tags[0]])) if tags else None

    deepest: dict[str, int] = {}
    for problem in problems:
        if (which := member(problem)) is not None:
            deepest[which[0]] = max(deepest.get(which[0], 0), len(problem["loc"]))
    return [problem for problem in problems
            if (which := member(problem)) is None or len(problem["loc"]) == deepest[which[0]]]


def _is_type_tag(part: object) -> bool:
    """Pydantic names the member of a union that failed ('float', 'list[constrained-float]'): not part of the key."""
    return isinstance(part, str) and ("[" in part or part in _TYPE_NAMES)
