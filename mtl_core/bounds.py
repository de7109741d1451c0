"""Settings bounded by a named limit (``mtl_core.limits``), and the one range a setting's widget and its check share.

A field made with ``limited("MAX_EPOCHS", ge=1)`` has ``le`` = the limit's current value and remembers the
limit's name, so every message about it can say which limit it is and which variable raises it:

>>> from pydantic import BaseModel
>>> class Run(BaseModel):
...     epochs: int = limited("MAX_EPOCHS", 100, ge=1)
>>> limit_of(Run.model_fields["epochs"])
'MAX_EPOCHS'
>>> field_range(Run, "epochs")
(1, 1000)
>>> check_limits(Run, {"epochs": 5000}, "train")
Traceback (most recent call last):
...
mtl_core.errors.ConfigError: train.epochs = 5000: at most 1,000 epochs per run (MTL_MAX_EPOCHS); lower it, ...
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from annotated_types import Ge, Gt, Le, Lt
from pydantic import BaseModel, Field
from pydantic.fields import FieldInfo

from mtl_core import limits
from mtl_core.errors import ConfigError

JS_SAFE_INT = 2**53 - 1  # the largest whole number a browser's number widget holds exactly (Number.MAX_SAFE_INTEGER)
JS_MAX_FLOAT = 1.7976931348623157e308
NUDGE = 1e-9  # an open float bound b is shown as b ± NUDGE·max(1, |b|) by a widget


def limited(name: str, default: Any = ..., **field: Any) -> Any:
    """A pydantic ``Field`` whose upper bound is limit ``name`` (``le=LIMITS[name].value``), named in messages."""
    extra = {"limit": name}
    return Field(default, le=limits.LIMITS[name].value, json_schema_extra=extra, **field)  # type: ignore[arg-type]


def limit_of(field: FieldInfo | None) -> str | None:
    """The name of the limit that bounds ``field`` from above, or None."""
    extra = field.json_schema_extra if field is not None else None
    name = extra.get("limit") if isinstance(extra, dict) else None
    return str(name) if isinstance(name, str) and name in limits.LIMITS else None


def limit_note(field: FieldInfo | None) -> str:
    """``at most 1,000 epochs per run (MTL_MAX_EPOCHS)`` for a limited field, else ''."""
    name = limit_of(field)
    return limits.describe(name) if name is not None else ""


def check_limits(model: type[BaseModel], values: Mapping[str, Any], prefix: str) -> None:
    """ConfigError naming the first given value past its field's limit (items of a list count one by one)."""
    for key, value in values.items():
        field = model.model_fields.get(str(key))
        name = limit_of(field)
        if name is None:
            continue
        items = value if isinstance(value, (list, tuple)) else [value]
        worst = max((item for item in items if _number(item)), default=None)
        if worst is not None and worst > limits.LIMITS[name].value:
            raise ConfigError(f"{prefix}.{key} = {shown(value)}: {limits.describe(name)}; lower it, or raise "
                              f"{limits.LIMITS[name].variable} where the server runs")


def field_range(model: type[BaseModel], name: str) -> tuple[float | None, float | None]:
    """The closed range [low, high] of a numeric field (an open bound nudged inside; None: unbounded)."""
    low: float | None = None
    high: float | None = None
    integer = model.model_fields[name].annotation is int
    step = 1.0 if integer else 0.0
    for rule in model.model_fields[name].metadata:
        if isinstance(rule, Ge):
            low = float(rule.ge)  # type: ignore[arg-type]
        elif isinstance(rule, Gt):
            low = float(rule.gt) + (step or NUDGE * max(1.0, abs(float(rule.gt))))  # type: ignore[arg-type]
        elif isinstance(rule, Le):
            high = float(rule.le)  # type: ignore[arg-type]
        elif isinstance(rule, Lt):
            high = float(rule.lt) - (step or NUDGE * max(1.0, abs(float(rule.lt))))  # type: ignore[arg-type]
    if integer:
        return (None if low is None else int(low)), (None if high is None else int(high))
    return low, high


def within(value: float, low: float | None, high: float | None, integer: bool) -> float:
    """``value`` moved into [low, high] and into what a browser's number widget can hold."""
    floor = -JS_SAFE_INT if integer else -JS_MAX_FLOAT
    ceiling = JS_SAFE_INT if integer else JS_MAX_FLOAT
    low = floor if low is None else max(low, floor)
    high = ceiling if high is None else min(high, ceiling)
    if isinstance(value, float) and math.isnan(value):
        return low if low > floor else 0
    return min(max(value, low), high)


def shown(value: Any, limit: int = 60) -> str:
    """``repr(value)`` as a message quotes it: cut to ``limit`` characters."""
    text = repr(list(value) if isinstance(value, tuple) else value)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and not math.isnan(value)
