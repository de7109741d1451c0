"""Reading an uploaded Parquet file without trusting it: its footer's sizes are checked before any data is read.

A Parquet file is compressed and dictionary-encoded, so a 2 MB file can hold 100 M rows, or one long text
repeated a million times (gigabytes once decoded). The footer states the rows, the columns and the bytes of
each row group, so those limits are checked first, at the cost of reading the footer only. The data is then
read in batches with text columns kept dictionary-encoded, and the bytes each batch would take once decoded
are added up: a file whose footer understates its size is refused when the total passes the budget, before
anything is decoded.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from mtl_core.errors import DataError
from mtl_core.limits import MAX_CELLS, MAX_COLUMNS, MAX_ROWS, MAX_UPLOAD_MB, describe
from mtl_core.safe_text import shorten

# Not in mtl_core.limits yet: bytes a table's values may take once decompressed and decoded. Tied to the upload
# size (MTL_MAX_UPLOAD_MB), so a server that takes bigger files takes bigger tables.
MAX_TABLE_MB = 4 * MAX_UPLOAD_MB
TABLE_BUDGET = f"at most {MAX_TABLE_MB:,} MB of values once decompressed (4 × MTL_MAX_UPLOAD_MB)"
MAX_ROW_GROUPS = 10_000  # not in mtl_core.limits yet: 400 000 one-row groups fit in 50 MB and take 9 s to read
BATCH_ROWS = 65_536
TEXT_BATCH_ROWS = 1_048_576  # dictionary-encoded text costs 4 bytes a row until decoded
_TEXT = (pa.types.is_string, pa.types.is_large_string, pa.types.is_string_view)
_FLAT = (pa.types.is_integer, pa.types.is_floating, pa.types.is_boolean, pa.types.is_temporal,
         pa.types.is_decimal, pa.types.is_null, *_TEXT)


def read_parquet(source: Path | io.BytesIO, label: str) -> pd.DataFrame:
    """The table of a Parquet file; raises DataError naming the limit it passes, checked before the data is read."""
    footer = open_parquet(source, label)
    check_footer(footer, label)
    encoded = [field.name for field in footer.schema_arrow if is_text(field.type)]
    texts = [field.name for field in footer.schema_arrow if is_text(field.type) or pa.types.is_dictionary(field.type)]
    if texts:  # a first pass over the text columns, kept dictionary-encoded: their decoded size is known first
        for _ in read_batches(open_parquet(source, label, encoded), label, texts, TEXT_BATCH_ROWS):
            pass
    table = pa.Table.from_batches(list(read_batches(footer, label)), schema=footer.schema_arrow)
    try:
        return table.to_pandas()
    except (pa.ArrowException, ValueError, TypeError, OverflowError) as error:
        raise DataError(f"{label} cannot be read as Parquet: {one_line(error)}") from None


def open_parquet(source: Path | io.BytesIO, label: str, text: list[str] | None = None) -> pq.ParquetFile:
    """The file with its footer read (no data yet); ``text`` columns will be read dictionary-encoded."""
    if isinstance(source, io.BytesIO):
        source.seek(0)
    try:
        return pq.ParquetFile(source, read_dictionary=text or None, memory_map=False)
    except ImportError:
        raise DataError(f"{label}: reading Parquet needs pyarrow; pip install pyarrow") from None
    except (pa.ArrowException, OSError, ValueError, TypeError) as error:
        raise DataError(f"{label} cannot be read as Parquet: {one_line(error)}") from None


def check_footer(parquet: pq.ParquetFile, label: str) -> None:
    """Rows, columns, cells, declared bytes and flat column types, from the footer alone."""
    metadata, schema = parquet.metadata, parquet.schema_arrow
    if metadata.num_row_groups > MAX_ROW_GROUPS:  # each costs a footer entry and a read: a slow file, not a big one
        raise DataError(f"{label} is split into {metadata.num_row_groups:,} row groups; at most {MAX_ROW_GROUPS:,} "
                        f"are read. Write it again with larger row groups (pyarrow: row_group_size).")
    groups = [metadata.row_group(index) for index in range(metadata.num_row_groups)]
    rows = max(metadata.num_rows, sum(group.num_rows for group in groups))
    columns = len(schema)
    if rows > MAX_ROWS:
        raise DataError(f"{label} has {rows} rows; {describe('MAX_ROWS')}. Keep a sample of the rows.")
    if columns > MAX_COLUMNS:
        raise DataError(f"{label} has {columns:,} columns; {describe('MAX_COLUMNS')}. Keep the columns you need.")
    if rows * columns > MAX_CELLS:
        raise DataError(f"{label} has {rows} rows × {columns:,} columns = {rows * columns:,} cells; "
                        f"{describe('MAX_CELLS')}. Keep fewer rows or columns.")
    declared = sum(max(group.total_byte_size, 0) for group in groups)
    if declared > MAX_TABLE_MB * 2**20:
        raise DataError(f"{label} holds {declared / 2**20:,.0f} MB of values once decompressed; {TABLE_BUDGET}.")
    if rows == 0:
        raise DataError(f"{label} holds no rows")
    for field in schema:
        if not is_flat(field.type):
            raise DataError(f"column {shorten(field.name)!r} of {label} holds {shorten(field.type, 60)} values; a table "
                            f"takes numbers, text, true/false and dates. Flatten or drop the column.")


def read_batches(parquet: pq.ParquetFile, label: str, columns: list[str] | None = None,
                 batch_rows: int = BATCH_ROWS) -> Iterator[pa.RecordBatch]:
    """All rows, batch by batch, refused as soon as their decoded size passes the budget or the rows their limit."""
    used, rows = 0, 0
    try:
        for batch in parquet.iter_batches(batch_size=batch_rows, columns=columns, use_threads=False):
            used, rows = used + decoded_bytes(batch), rows + batch.num_rows
            if used > MAX_TABLE_MB * 2**20:
                raise DataError(f"{label} holds more than {MAX_TABLE_MB:,} MB of values once decoded; {TABLE_BUDGET}.")
            if rows > MAX_ROWS:
                raise DataError(f"{label} has more than {MAX_ROWS} rows; {describe('MAX_ROWS')}.")
            yield batch
    except DataError:
        raise
    except (pa.ArrowException, OSError, ValueError, TypeError, OverflowError, IndexError) as error:
        raise DataError(f"{label} cannot be read as Parquet: {one_line(error)}") from None


def decoded_bytes(batch: pa.RecordBatch) -> int:
    """Bytes the batch's columns take once dictionaries are decoded (text: the lengths of its values)."""
    total = 0
    for column in batch.columns:
        if isinstance(column, pa.DictionaryArray):
            dictionary = column.dictionary
            if any(test(dictionary.type) for test in _TEXT):
                lengths = pc.binary_length(dictionary)  # once per batch: the dictionary is shared, not copied
                total += int(pc.sum(lengths.take(column.indices)).as_py() or 0) + 8 * len(column)
                continue
            total += 8 * len(column)
        else:
            total += column.nbytes
    return total


def is_text(kind: pa.DataType) -> bool:
    return any(test(kind) for test in _TEXT)


def is_flat(kind: pa.DataType) -> bool:
    """One value per cell: numbers, text, booleans, dates (or a dictionary of those)."""
    if pa.types.is_dictionary(kind):
        return is_flat(kind.value_type)
    return any(test(kind) for test in _FLAT)


def one_line(error: BaseException) -> str:
    """The first line of an error's text, at most 200 characters (never the file's contents)."""
    lines = str(error).strip().splitlines()
    return shorten(lines[0] if lines else type(error).__name__)
