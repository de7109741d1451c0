"""Reading a user's table from a path or from uploaded bytes: encoding and delimiter are detected."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd

from mtl_core.errors import DataError

ENCODINGS = ("utf-8-sig", "utf-8", "latin-1")  # utf-8-sig first: it also strips a byte-order mark
DELIMITERS = ",;\t|"


def read_table(source: str | Path | bytes, name: str | None = None) -> pd.DataFrame:
    """A DataFrame from a CSV/TSV path or its bytes; raises DataError naming the file on failure."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        label = name or path.name
        if not path.is_file():
            raise DataError(f"data file {str(path)!r} does not exist")
        if path.suffix.lower() == ".parquet":
            return _read_parquet(path, label)
        payload = path.read_bytes()
    else:
        payload, label = source, name or "the uploaded file"
    text = decode(payload, label)
    if not text.strip():
        raise DataError(f"{label} is empty; a table needs a header line and at least one row")
    delimiter = sniff_delimiter(text)
    try:
        table = pd.read_csv(io.StringIO(text), sep=delimiter)
    except (pd.errors.ParserError, ValueError) as error:
        raise DataError(f"{label} cannot be read as a table with delimiter {delimiter!r}: {error}") from None
    if table.shape[1] < 2:
        raise DataError(
            f"{label} has a single column ({table.columns[0]!r}); a table needs at least one feature and one "
            f"task column. Check the delimiter: tried {', '.join(repr(d) for d in DELIMITERS)}"
        )
    if table.empty:
        raise DataError(f"{label} has a header but no rows")
    table.columns = [str(column).strip() for column in table.columns]
    return table


def decode(payload: bytes, label: str) -> str:
    """The text of the payload in the first encoding that fits (UTF-8 with or without BOM, else Latin-1)."""
    for encoding in ENCODINGS:
        try:
            return payload.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise DataError(f"{label} is neither UTF-8 nor Latin-1 text")  # unreachable: Latin-1 decodes any bytes


def sniff_delimiter(text: str) -> str:
    """The delimiter of the first lines: csv.Sniffer among , ; tab |, else the most frequent in the header."""
    sample = "\n".join(text.splitlines()[:50])
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        header = text.splitlines()[0]
        return max(DELIMITERS, key=header.count)


def _read_parquet(path: Path, label: str) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except ImportError:
        raise DataError(f"{label}: reading Parquet needs pyarrow; pip install pyarrow") from None
    except (OSError, ValueError) as error:
        raise DataError(f"{label} cannot be read as Parquet: {error}") from None
