"""The records as a plain-text table for the terminal."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def table(records: Sequence[dict[str, Any]]) -> str:
    """One line per record: benchmark, parameters, value and unit, baseline, ratio."""
    rows = [("benchmark", "parameters", "value", "baseline", "ratio")]
    for item in records:
        parameters = ", ".join(f"{key}={fmt(value)}" for key, value in item["parameters"].items())
        rows.append((item["name"], parameters, f"{fmt(item['value'])} {item['unit']}", fmt(item["baseline"]),
                     "—" if item["ratio"] is None else f"{item['ratio']:.3f}×"))
    widths = [min(max(len(row[index]) for row in rows), 70) for index in range(5)]
    lines = ["  ".join(cell[:70].ljust(width) for cell, width in zip(row, widths)) for row in rows]
    return "\n".join([lines[0], "  ".join("-" * width for width in widths), *lines[1:]])
