"""The strategies registry: ``available``, ``create`` and ``describe`` read it; nothing else lists methods."""

from __future__ import annotations

import copy
import inspect
import sys
from typing import Any, Literal

from mtl_core.registry import Registry
from mtl_core.weighting.base import Strategy, hparam_model, validate_hparams

STRATEGIES = Registry[type[Strategy]]("strategy")


def available(kind: Literal["loss", "gradient"] | None = None) -> list[str]:
    """Registered strategy names, sorted; ``kind`` keeps loss-based or gradient-based ones only."""
    return [name for name in STRATEGIES.names() if kind is None or STRATEGIES.get(name).kind == kind]


def create(name: str, **hparams: Any) -> Strategy:
    """A ready strategy (``reset()`` called) with validated hyper-parameters.

    >>> create("static", weights=[1.0, 2.0]).hparams()
    {'weights': [1.0, 2.0]}
    """
    cls = STRATEGIES.get(name, key="strategy.name")
    strategy = cls(**validate_hparams(cls, hparams))
    strategy.reset()
    return strategy


def describe(name: str | None = None) -> list[dict[str, Any]]:
    """For menus and forms: name, kind, one-line idea, paper, and the hyper-parameters' JSON schema."""
    names = [name] if name is not None else available()
    return [copy.deepcopy(_describe(item, STRATEGIES.get(item))) for item in names]  # a caller may edit its copy


_DESCRIBED: dict[tuple[str, type[Strategy]], dict[str, Any]] = {}  # a class's description never changes


def _describe(name: str, cls: type[Strategy]) -> dict[str, Any]:
    """Built once per (name, class): its JSON schema costs about half a millisecond, on every run of a page."""
    if (name, cls) in _DESCRIBED:
        return _DESCRIBED[name, cls]
    module = sys.modules[cls.__module__]
    _DESCRIBED[name, cls] = {
        "name": name,
        "kind": cls.kind,
        "summary": (inspect.getdoc(cls) or "").split("\n")[0],
        "paper": (inspect.getdoc(module) or "").split("\n")[0],
        "claims": sorted(cls.claims),
        "hparams": hparam_model(cls).model_json_schema(),
    }
    return _DESCRIBED[name, cls]
