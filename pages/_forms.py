"""A form drawn from a JSON schema (a strategy's, an architecture's or a data set's own settings).

No page lists a method's settings by hand: the engine's ``describe`` functions hand out the schema of
each one's hyper-parameters, and ``schema_form`` draws one widget per property, keyed
``"<prefix>.<name>"``, starting from the current values (else the schema's defaults).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import streamlit as st
from pydantic import BaseModel

from mtl_core.bounds import field_range, within


def schema_form(prefix: str, schema: Mapping[str, Any], current: Mapping[str, Any],
                skip: frozenset[str] = frozenset()) -> dict[str, Any]:
    """One widget per property of ``schema`` (except ``skip``); returns the values given or changed (not defaults)."""
    values: dict[str, Any] = {}
    properties = {name: spec for name, spec in schema.get("properties", {}).items() if name not in skip}
    columns = st.columns(min(len(properties), 3)) if properties else []
    for index, (name, spec) in enumerate(properties.items()):
        with columns[index % len(columns)]:
            value = field_widget(f"{prefix}.{name}", name, spec, current.get(name, spec.get("default")))
        if value != spec.get("default") or name in current:  # a setting given explicitly stays explicit
            values[name] = value
    return values


def field_widget(key: str, name: str, spec: Mapping[str, Any], value: Any) -> Any:
    """The widget that fits one property: a number, a menu, a switch, or a text box for lists and options."""
    label, help_text = spec.get("title") or name, spec.get("description")
    kind = spec.get("type")
    if "enum" in spec:
        options = list(spec["enum"])
        index = options.index(value) if value in options else 0
        return st.selectbox(label, options, index=index, key=key, help=help_text)
    if kind == "boolean":
        return st.toggle(label, value=bool(value), key=key, help=help_text)
    if kind in ("integer", "number"):
        return number_widget(key, label, spec, value, help_text)
    return text_widget(key, label, spec, value, help_text)


def number_widget(key: str, label: str, spec: Mapping[str, Any], value: Any, help_text: str | None) -> Any:
    """A number input bounded by the schema's minimum/maximum (exclusive bounds nudged inside).

    The value shown is moved into those bounds and into what a browser's number holds, so a value from a link
    or a file never makes the widget fail; the engine checks the same bounds (one schema for both).
    """
    integer = spec.get("type") == "integer"
    step = 1 if integer else _step(value)
    low = spec.get("minimum", spec.get("exclusiveMinimum"))
    high = spec.get("maximum", spec.get("exclusiveMaximum"))
    if "exclusiveMinimum" in spec and low is not None:
        low = low + (1 if integer else 1e-9)
    if "exclusiveMaximum" in spec and high is not None:
        high = high - (1 if integer else 1e-9)
    cast = int if integer else float
    try:
        start = cast(value) if value is not None else cast(low if low is not None else 0)
    except (TypeError, ValueError, OverflowError):  # a list, text, or inf for a whole number: the default instead
        start = cast(spec.get("default") or (low if low is not None else 0))
    start = cast(within(start, low, high, integer))
    return st.number_input(label, min_value=None if low is None else cast(low),
                           max_value=None if high is None else cast(high), value=start, step=step,
                           format=None if integer else "%g", key=key, help=help_text)


def bounded_input(where: Any, label: str, model: type[BaseModel], name: str, value: float, step: float,
                  **options: Any) -> Any:
    """A number input over the range ``model`` accepts for ``name`` (one source for both), starting from
    ``value`` moved into it, so no value the config holds can make the widget fail."""
    low, high = field_range(model, name)
    integer = isinstance(step, int)
    cast = int if integer else float
    start = within(cast(value), low, high, integer)
    return where.number_input(label, None if low is None else cast(low), None if high is None else cast(high),
                              cast(start), step, **options)


def text_widget(key: str, label: str, spec: Mapping[str, Any], value: Any, help_text: str | None) -> Any:
    """Lists, optional values and anything else as JSON text; text that does not parse keeps the default."""
    shown = "" if value is None else json.dumps(value)
    text = st.text_input(label, value=shown, key=key, help=(help_text or "") + " (JSON; empty for none)")
    if not text.strip():
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        st.caption(f":red[{label}: {text!r} is not valid JSON (e.g. [16, 16] or 0.5); the default is used]")
        return spec.get("default")


def _step(value: Any) -> float:
    """A step one decade below the value's size: 0.01 steps by 0.001, 1.5 by 0.1."""
    try:
        size = abs(float(value))
    except (TypeError, ValueError):
        return 0.1
    return 0.1 if size == 0 or not math.isfinite(size) else float(10.0 ** (math.floor(math.log10(size)) - 1))
