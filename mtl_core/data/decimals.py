"""Numbers written with decimal commas ("1,5", "1.234,5"), as European spreadsheets export them.

pandas reads such a column as text, and text would be one-hot encoded; a column whose every value is a
decimal-comma number is converted to floats instead. A column that mixes the two conventions is refused.
"""

from __future__ import annotations

import re

import pandas as pd

from mtl_core.errors import DataError
from mtl_core.safe_text import shorten

_EXPONENT = r"(?:[eE][+-]?\d+)?"
DECIMAL_COMMA = re.compile(rf"[+-]?(?:\d+|\d{{1,3}}(?:\.\d{{3}})+)?,\d+{_EXPONENT}")  # 1,5  -0,25  1.234,5  ,5
GROUPED = re.compile(r"[+-]?\d{1,3}(?:\.\d{3})+")  # 1.234 or 1.234.567: thousands, or a decimal point?
INTEGER = re.compile(r"[+-]?\d+")  # the same under both conventions
DOT_NUMBER = re.compile(rf"[+-]?(?:\d+(?:\.\d*)?|\.\d+){_EXPONENT}")  # 1.5, 2., .5, 3e4 (one way to match: linear)


def convert_decimal_commas(table: pd.DataFrame, label: str) -> pd.DataFrame:
    """The table with each decimal-comma text column read as numbers; other columns unchanged.

    Raises DataError when a column holds decimal-comma numbers beside numbers written with a decimal point,
    or beside a value like '1.234' that could be either.
    """
    converted = {}
    for name in table.columns:
        if pd.api.types.is_object_dtype(table[name]) or pd.api.types.is_string_dtype(table[name]):
            numbers = _decimal_comma_numbers(table[name], str(name), label)
            if numbers is not None:
                converted[name] = numbers
    return table.assign(**converted) if converted else table


def _decimal_comma_numbers(column: pd.Series, name: str, label: str) -> pd.Series | None:
    """The column as floats when it is written with decimal commas, else None (it stays text)."""
    present = column.dropna()
    if present.empty or not all(isinstance(value, str) for value in present):
        return None
    values = present.str.strip()
    with_comma = values.map(lambda value: DECIMAL_COMMA.fullmatch(value) is not None)
    if not with_comma.any():
        return None
    others = values[~with_comma]
    if not others.map(lambda value: DOT_NUMBER.fullmatch(value) is not None).all():
        return None  # text with a number-like value among it: left to the text path
    grouping_shown = values[with_comma].str.contains(".", regex=False).any()
    for row, value in others.items():
        if INTEGER.fullmatch(value) or (grouping_shown and GROUPED.fullmatch(value)):
            continue
        example = values[with_comma].iloc[0]
        raise DataError(
            f"column {shorten(name)!r} (row {_position(column, row) + 1} of {label}) holds {shorten(value)!r} beside "
            f"numbers written with a decimal comma such as {shorten(example)!r}, so its '.' could be a decimal point or a thousands "
            f"separator. Write every number of the column the same way (e.g. '1,5' or '1.5') "
            f"and read the file again."
        )
    as_floats = values.str.replace(".", "", regex=False).str.replace(",", ".", regex=False).astype(float)
    return as_floats.reindex(column.index)


def _position(column: pd.Series, row: object) -> int:
    return int(column.index.get_loc(row))
