"""Every CSV the project writes goes through ``neutralise``: a text cell that a spreadsheet would run as a formula
gets a leading apostrophe.

OWASP, "CSV Injection" (https://owasp.org/www-community/attacks/CSV_Injection): a cell that starts with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return is read by Excel, LibreOffice and Google Sheets as a formula
(``=HYPERLINK(...)``, ``=cmd|' /C calc'!A0``). A task name, class label or column header comes from a visitor's
upload, so each one is written as text: ``'=1+1``. Numbers stay numbers: ``-1.5`` (a float, or text that reads
as a plain number) is left as it is, since a spreadsheet reads it as that number and runs nothing.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pandas loads only when a frame is written: `python -m mtl_core list` and `runs list` do without
    import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")  # "-1.5", "+2", "-3e4": a number, not a formula


def neutralise(value: Any) -> Any:
    """The value as a CSV cell that no spreadsheet runs: text starting like a formula gets a leading ``'``.

    >>> neutralise("=HYPERLINK(\\"http://x\\")"), neutralise("@SUM(A1)"), neutralise("-1.5"), neutralise(-2)
    ('\\'=HYPERLINK("http://x")', "'@SUM(A1)", '-1.5', -2)
    >>> neutralise("-1+cmd"), neutralise("cat")
    ("'-1+cmd", 'cat')
    """
    if not isinstance(value, str) or not value.startswith(FORMULA_STARTS):
        return value
    if PLAIN_NUMBER.fullmatch(value):
        return value
    return "'" + value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with every text cell and column name neutralised; numeric columns are untouched."""
    from pandas.api.types import is_datetime64_any_dtype, is_numeric_dtype

    safe = frame.copy()
    for position in range(safe.shape[1]):
        column = safe.iloc[:, position]
        if not (is_numeric_dtype(column) or is_datetime64_any_dtype(column)):
            safe.isetitem(position, column.astype(object).map(neutralise))  # by position: names may repeat
    safe.columns = [neutralise(name) for name in frame.columns]
    return safe


def csv_text(frame: pd.DataFrame) -> str:
    """``frame`` as CSV text (no index), neutralised: what a download button offers."""
    return safe_frame(frame).to_csv(index=False)


def write_frame(frame: pd.DataFrame, path: Path) -> None:
    """``frame`` written to ``path`` as CSV (no index), neutralised, whole or not at all."""
    partial = path.with_name(path.name + ".part")
    safe_frame(frame).to_csv(partial, index=False)
    partial.replace(path)


def write_rows(path: Path, rows: Iterable[Mapping[str, Any]], header: Sequence[str] = ()) -> None:
    """Dict rows as a CSV whose columns are ``header`` then every other key in order of first appearance."""
    rows = list(rows)
    columns = list(dict.fromkeys([*header, *(key for row in rows for key in row)]))
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([neutralise(name) for name in columns])
    writer.writerows([neutralise(row.get(name, "")) for name in columns] for row in rows)
    partial = path.with_name(path.name + ".part")
    partial.write_text(buffer.getvalue(), encoding="utf-8", newline="")
    partial.replace(path)
