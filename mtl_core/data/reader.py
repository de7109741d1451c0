"""Reading a user's table from a path or from uploaded bytes: encoding and delimiter are detected.

Every size is checked before the table is built: the file's bytes first, then the header's columns, then the
rows, read no further than the limits allow (``nrows``), so a hostile file costs at most what a table within
the limits costs. Parquet files are checked from their footer first (``mtl_core.data.parquet``).
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from mtl_core.data.decimals import convert_decimal_commas
from mtl_core.data.memory import release_freed
from mtl_core.data.parquet import one_line, read_parquet
from mtl_core.errors import DataError
from mtl_core.limits import MAX_CELLS, MAX_COLUMNS, MAX_ROWS, MAX_UPLOAD_MB, describe
from mtl_core.safe_text import shorten

ENCODINGS = ("utf-8-sig", "utf-8", "latin-1")  # utf-8-sig first: it also strips a byte-order mark
DELIMITERS = ",;\t|"
ROWS_AT_ONCE = 65_536  # rows parsed at once (10 float columns: 5 MB); a larger table is read in pieces
SAMPLE_CHARS = 65_536  # the delimiter is guessed from the first lines only: csv.Sniffer is slow on long text


def read_table(source: str | Path | bytes, name: str | None = None) -> pd.DataFrame:
    """A DataFrame from a CSV/TSV/Parquet path or its bytes; raises DataError naming the file on failure.

    A text file given by its path is checked and parsed from the file a megabyte at a time: its bytes are never
    all in memory beside the table (at a million rows they weigh about as much as the table).
    """
    if isinstance(source, (str, Path)):
        path = Path(source)
        label = shorten(name or path.name)
        if not path.is_file():
            raise DataError(f"data file {shorten(path)!r} does not exist")
        check_size(path.stat().st_size, label)
        with path.open("rb") as handle:
            magic = handle.read(4)
        if path.suffix.lower() == ".parquet" or magic == b"PAR1":
            return unique_names(read_parquet(path, label), label)
        return read_text_table(TextSource(path=path), label)
    payload, label = source, shorten(name or "the uploaded file")
    check_size(len(payload), label)
    if payload.startswith(b"PAR1"):
        return unique_names(read_parquet(io.BytesIO(payload), label), label)
    return read_text_table(TextSource(payload=payload), label)


class TextSource:
    """The bytes of a text table, in memory (an upload) or in a file (read a megabyte at a time)."""

    CHUNK = 2**20

    def __init__(self, payload: bytes | None = None, path: Path | None = None) -> None:
        self.payload, self.path = payload, path
        self.size = len(payload) if payload is not None else path.stat().st_size if path is not None else 0

    def head(self, count: int) -> bytes:
        if self.payload is not None:
            return self.payload[:count]
        assert self.path is not None
        with self.path.open("rb") as handle:
            return handle.read(count)

    def chunks(self) -> Iterator[bytes]:
        if self.payload is not None:
            yield self.payload
            return
        assert self.path is not None
        with self.path.open("rb") as handle:
            while chunk := handle.read(self.CHUNK):
                yield chunk

    def for_pandas(self) -> Path | io.BytesIO:
        return self.path if self.path is not None else io.BytesIO(self.payload or b"")


def check_size(size: int, label: str) -> None:
    """Refuses a file past the upload limit before its bytes are read or parsed."""
    if size > MAX_UPLOAD_MB * 2**20:
        raise DataError(f"{label} is {size / 2**20:,.1f} MB; {describe('MAX_UPLOAD_MB')}. Keep a sample of the rows.")


def read_text_table(payload: bytes | TextSource, label: str) -> pd.DataFrame:
    """A CSV/TSV table from its bytes (or a file's), read no further than the row and cell limits.

    pandas parses the bytes themselves (``encoding``): a text copy of the whole file is never kept.
    """
    source = payload if isinstance(payload, TextSource) else TextSource(payload=payload)
    encoding = stream_encoding(source, label)
    first = source.head(2**20)
    sample = first[: 4 * SAMPLE_CHARS].decode(encoding, errors="ignore")  # a character cut at the end is dropped
    if not sample or sample.isspace() and source.size <= 4 * SAMPLE_CHARS:
        raise DataError(f"{label} is empty; a table needs a header line and at least one row")
    delimiter = sniff_delimiter(sample)
    head = first if b"\n" in first or b"\r" in first else b"".join(source.chunks())  # the header whole
    width = check_header(head.decode(encoding, errors="ignore"), delimiter, label)
    del first, head
    most = min(MAX_ROWS, MAX_CELLS // max(width, 1))
    try:
        table = parse_rows(source, delimiter, encoding, most + 1)
    except (pd.errors.ParserError, ValueError, OverflowError, csv.Error) as error:
        raise DataError(f"{label} cannot be read as a table with delimiter {delimiter!r}: {one_line(error)}") from None
    if len(table) > most:
        limit = "MAX_ROWS" if most == MAX_ROWS else "MAX_CELLS"
        raise DataError(f"{label} has more than {most:,} rows of {width:,} columns; {describe(limit)}. "
                        f"Keep a sample of the rows.")
    if table.shape[1] > MAX_COLUMNS or table.size > MAX_CELLS:  # a header with quoted line breaks, counted short
        raise DataError(f"{label} has {table.shape[1]} columns and {len(table):,} rows; {describe('MAX_COLUMNS')} "
                        f"and {describe('MAX_CELLS')}.")
    if table.shape[1] < 2:
        raise DataError(
            f"{label} has a single column ({shorten(table.columns[0])!r}); a table needs at least one feature and "
            f"one task column. Check the delimiter: tried {', '.join(repr(d) for d in DELIMITERS)}"
        )
    if table.empty:
        raise DataError(f"{label} has a header but no rows")
    table = unique_names(table, label)
    if delimiter != ",":  # in a comma-separated file, "1,234" in quotes is a thousands separator, not a decimal comma
        table = convert_decimal_commas(table, label)
    return table


def parse_rows(source: TextSource, delimiter: str, encoding: str, most: int) -> pd.DataFrame:
    """At most ``most`` rows of the text, parsed ``ROWS_AT_ONCE`` rows at a time and joined one column at a time.

    pandas joins the pieces it parses only at the end, all columns at once: at a million rows the process held the
    pieces and the table together, more than twice the table. Here each piece is split into its columns at once,
    and each column's pieces are freed (and their memory handed back) as soon as the column is joined, so reading
    needs little more than the table itself. A table of one piece is pandas' own result, untouched.
    """
    reader = pd.read_csv(source.for_pandas(), sep=delimiter, index_col=False, nrows=most,  # index_col=False: a
                         encoding=encoding, encoding_errors="strict", chunksize=ROWS_AT_ONCE)  # trailing delimiter
    with reader:  # shifts nothing
        first = next(reader)
        second = next(reader, None)
        if second is None:
            return first
        names = first.columns
        pieces: list[list[pd.Series]] = [[] for _ in names]
        for piece in itertools.chain((first, second), reader):
            for index, column in enumerate(pieces):
                column.append(piece.iloc[:, index].copy())  # a copy: a piece's block is freed with the piece
            del piece
        del first, second
    columns: dict[int, pd.Series] = {}
    for index, column in enumerate(pieces):
        columns[index] = join_pieces(column)
        freed = sum(part.memory_usage(index=False) for part in column)
        column.clear()
        release_freed(freed)
    table = pd.DataFrame(columns, copy=False)
    table.columns = names
    return table


def join_pieces(parts: list[pd.Series]) -> pd.Series:
    """One column from its pieces' parts, typed as one read would type it: a piece where the column is empty
    (all missing, parsed as float) does not turn a text column into mixed objects."""
    kinds = {part.dtype for part in parts}
    if len(kinds) > 1:
        filled = {part.dtype for part in parts if not part.isna().all()}
        if len(filled) == 1:
            kind = next(iter(filled))
            if pd.api.types.is_string_dtype(kind) and kind != object:
                parts = [part if part.dtype == kind else part.astype(kind) for part in parts]
    return pd.concat(parts, ignore_index=True)


def unique_names(table: pd.DataFrame, label: str) -> pd.DataFrame:
    """Column names as stripped text, a blank one named as pandas names it; two equal names are refused."""
    names = [str(column).strip() for column in table.columns]
    names = [name or f"Unnamed: {index}" for index, name in enumerate(names)]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise DataError(f"{label} has duplicate column names: {', '.join(repr(shorten(n, 60)) for n in twice[:5])}. "
                        f"Rename them so each is unique.")
    table.columns = names
    return table


def decode(payload: bytes, label: str) -> str:
    """The text of the payload: UTF-16 with a BOM, else UTF-8 (with or without BOM), else Latin-1.

    Bytes with NUL characters and no UTF-16 mark are binary (a spreadsheet, an archive): refused.
    """
    return payload.decode(detect_encoding(payload, label))


def detect_encoding(payload: bytes, label: str) -> str:
    """The payload's encoding: UTF-16 with a BOM, else UTF-8 (with or without BOM), else Latin-1; binary refused."""
    return stream_encoding(TextSource(payload=payload), label)


def stream_encoding(source: TextSource, label: str) -> str:
    """``detect_encoding`` over a source's chunks, each decoded incrementally and dropped: the text is never kept."""
    if source.head(2).startswith((b"\xff\xfe", b"\xfe\xff")):
        if not _decodes(source, "utf-16"):
            raise DataError(f"{label} starts with a UTF-16 mark but is not valid UTF-16 text")
        if not _decodes(source, "utf-16", refuse_nul=True):
            raise DataError(f"{label} is not a text table: it holds NUL characters. Save it as CSV (UTF-8).")
        return "utf-16"
    first, rest = ENCODINGS[0], ENCODINGS[1:]
    decoder, decodes, binary = codecs.getincrementaldecoder(first)("strict"), True, False
    for chunk in source.chunks():  # one pass: the NUL bytes and the first encoding together
        binary = binary or b"\x00" in chunk
        if decodes:
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError:
                decodes = False
    try:
        decoder.decode(b"", final=True)  # a character cut at the end of the file
    except UnicodeDecodeError:
        decodes = False
    if binary:
        raise DataError(
            f"{label} is not a text table: it holds binary bytes (an Excel or zipped file?). "
            f"Save it as CSV (UTF-8) and upload that."
        )
    if decodes:  # checked, then dropped: pandas decodes as it parses
        return first
    for encoding in rest:
        if _decodes(source, encoding):
            return encoding
    raise DataError(f"{label} is neither UTF-8 nor Latin-1 text")  # unreachable: Latin-1 decodes any bytes


def _decodes(source: TextSource, encoding: str, refuse_nul: bool = False) -> bool:
    """Whether the whole source decodes strictly as ``encoding`` (and, with ``refuse_nul``, holds no NUL)."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    try:
        for chunk in source.chunks():
            if "\x00" in decoder.decode(chunk) and refuse_nul:
                return False
        return not ("\x00" in decoder.decode(b"", final=True) and refuse_nul)
    except UnicodeDecodeError:
        return False


def check_header(text: str, delimiter: str, label: str) -> int:
    """The number of columns: unique names within the column limit (pandas would silently rename 'a' to 'a.1').

    ``text``: the file's first megabyte, or all of it.
    """
    try:
        header = next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), [])
    except csv.Error as error:
        raise DataError(f"{label}: the header line cannot be read with delimiter {delimiter!r} ({one_line(error)})") from None
    names = [name.strip() for name in header]
    if len(names) > MAX_COLUMNS:
        raise DataError(f"{label} has {len(names)} columns; {describe('MAX_COLUMNS')}. Keep the columns you need.")
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise DataError(f"{label} has duplicate column names: {', '.join(repr(shorten(n, 60)) for n in twice[:5])}. "
                        f"Rename them so each is unique.")
    return len(names)


def sniff_delimiter(text: str) -> str:
    """The delimiter of the first lines, among , ; tab |: the one that splits them into the same number of fields
    (at least two), else the most frequent in the header.

    csv.Sniffer is not used: its regular expressions take quadratic time, 50 s on 64 KB of ``,"`` repeated.
    """
    sample = text[:SAMPLE_CHARS]
    if len(sample) == SAMPLE_CHARS and "\n" in sample:
        sample = sample[: sample.rindex("\n")]  # whole lines only
    lines = sample.splitlines()[:50]
    if not lines:
        return ","
    scores = {delimiter: _consistency(sample, delimiter) for delimiter in DELIMITERS}
    best = max(DELIMITERS, key=lambda delimiter: scores[delimiter])  # ties: the earlier in DELIMITERS
    return best if scores[best] > (0.0, 0) else max(DELIMITERS, key=lines[0].count)


def _consistency(sample: str, delimiter: str) -> tuple[float, int]:
    """The share of the first rows with as many fields as the header, and the header's fields (0, 0 if below 2)."""
    try:
        rows = [row for row, _ in zip(csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter), range(50))
                if row]
    except csv.Error:
        return (0.0, 0)
    width = len(rows[0]) if rows else 0
    if width < 2:
        return (0.0, 0)
    return (sum(len(row) == width for row in rows) / len(rows), width)
