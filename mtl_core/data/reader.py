"""Reading a user's table from a path or from uploaded bytes: encoding and delimiter are detected."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd

from mtl_core.data.decimals import convert_decimal_commas
from mtl_core.errors import DataError
from mtl_core.limits import MAX_COLUMNS, MAX_ROWS, MAX_UPLOAD_MB

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
        if payload.startswith(b"PAR1"):
            return _read_parquet(io.BytesIO(payload), label)
    if len(payload) > MAX_UPLOAD_MB * 1024 * 1024:
        raise DataError(f"{label} is {len(payload) / 2**20:.1f} MB; the limit is {MAX_UPLOAD_MB} MB")
    text = decode(payload, label)
    if not text.strip():
        raise DataError(f"{label} is empty; a table needs a header line and at least one row")
    delimiter = sniff_delimiter(text)
    check_header(text, delimiter, label)
    try:
        table = pd.read_csv(io.StringIO(text), sep=delimiter, index_col=False)  # a trailing delimiter shifts nothing
    except (pd.errors.ParserError, ValueError) as error:
        raise DataError(f"{label} cannot be read as a table with delimiter {delimiter!r}: {error}") from None
    if table.shape[0] > MAX_ROWS:
        raise DataError(f"{label} has {table.shape[0]} rows; at most {MAX_ROWS} are allowed")
    if table.shape[1] < 2:
        raise DataError(
            f"{label} has a single column ({table.columns[0]!r}); a table needs at least one feature and one "
            f"task column. Check the delimiter: tried {', '.join(repr(d) for d in DELIMITERS)}"
        )
    if table.empty:
        raise DataError(f"{label} has a header but no rows")
    names = [str(column).strip() for column in table.columns]
    table.columns = [name or f"Unnamed: {index}" for index, name in enumerate(names)]  # a blank header cell, as pandas names it
    if delimiter != ",":  # in a comma-separated file, "1,234" in quotes is a thousands separator, not a decimal comma
        table = convert_decimal_commas(table, label)
    return table


def decode(payload: bytes, label: str) -> str:
    """The text of the payload: UTF-16 with a BOM, else UTF-8 (with or without BOM), else Latin-1.

    Bytes with NUL characters and no UTF-16 mark are binary (a spreadsheet, an archive): refused.
    """
    if payload.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return payload.decode("utf-16")
        except UnicodeDecodeError:
            raise DataError(f"{label} starts with a UTF-16 mark but is not valid UTF-16 text") from None
    if b"\x00" in payload[:65536]:
        raise DataError(
            f"{label} is not a text table: it holds binary bytes (an Excel or zipped file?). "
            f"Save it as CSV (UTF-8) and upload that."
        )
    for encoding in ENCODINGS:
        try:
            return payload.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise DataError(f"{label} is neither UTF-8 nor Latin-1 text")  # unreachable: Latin-1 decodes any bytes


def check_header(text: str, delimiter: str, label: str) -> None:
    """Column names are unique and within the column limit (pandas would silently rename 'a' to 'a.1')."""
    try:
        header = next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), [])
    except csv.Error as error:
        raise DataError(f"{label}: the header line cannot be read with delimiter {delimiter!r} ({error})") from None
    names = [name.strip() for name in header]
    if len(names) > MAX_COLUMNS:
        raise DataError(f"{label} has {len(names)} columns; at most {MAX_COLUMNS} are allowed. Keep the columns you need.")
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise DataError(f"{label} has duplicate column names: {', '.join(map(repr, twice))}. Rename them so each is unique.")


def sniff_delimiter(text: str) -> str:
    """The delimiter of the first lines: csv.Sniffer among , ; tab |, else the most frequent in the header."""
    sample = "\n".join(text.splitlines()[:50])
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        header = text.splitlines()[0]
        return max(DELIMITERS, key=header.count)


def _read_parquet(source: Path | io.BytesIO, label: str) -> pd.DataFrame:
    try:
        table = pd.read_parquet(source)
    except ImportError:
        raise DataError(f"{label}: reading Parquet needs pyarrow; pip install pyarrow") from None
    except (OSError, ValueError) as error:
        raise DataError(f"{label} cannot be read as Parquet: {error}") from None
    if table.shape[1] > MAX_COLUMNS or table.shape[0] > MAX_ROWS:
        raise DataError(f"{label} has {table.shape[0]} rows and {table.shape[1]} columns; the limits are "
                        f"{MAX_ROWS} rows and {MAX_COLUMNS} columns")
    if table.empty:
        raise DataError(f"{label} holds no rows")
    table.columns = [str(column) for column in table.columns]
    return table
