"""Fuzzing uploads: whatever the bytes and the name, ``save_upload``/``read_table`` give a table or one short line
of DataError (MTLError), never another exception, and reading stays within a memory bound.

``MTL_FUZZ_EXAMPLES=2000 python -m pytest tests/fuzz/test_uploads.py`` runs more examples than CI's default.
"""

from __future__ import annotations

import functools
import io
import os
import tempfile
from pathlib import Path
from unittest import mock

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mtl_core.data import read_table, uploads
from mtl_core.data.uploads import save_upload
from mtl_core.errors import MTLError
from tests.unit.uploads.memory import peak_memory

EXAMPLES = int(os.environ.get("MTL_FUZZ_EXAMPLES", "0") or 0) or 40
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=EXAMPLES <= 40,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
MEMORY_MB = 400  # per upload: the worst table within the limits reads in about 250 MB (see test_table_limits)
NAMES = st.sampled_from(["t.csv", "t.tsv", "t.txt", "t.parquet", "T.CSV", "x.xlsx", "", "../../etc/passwd.csv",
                         "=cmd|' /C calc'!A0.csv", "ünïcödé 表.csv", "a" * 300 + ".csv", "nul\x00.csv"])
FORMULAS = st.sampled_from(["=1+1", "+A1", "-2+3", "@SUM(A1)", "\t=x", "\r=x", "=HYPERLINK(\"http://x\")"])
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12) | FORMULAS
CELLS = TEXT | st.integers(-10**20, 10**20).map(str) | st.floats(allow_nan=True).map(str) | st.just("")


@functools.cache
def bombs() -> tuple[bytes, ...]:
    """Parquet files past the limits in small files: rows from the footer, text decoding to gigabytes."""
    def written(table: pa.Table, **options: object) -> bytes:
        buffer = io.BytesIO()
        pq.write_table(table, buffer, **options)  # type: ignore[arg-type]
        return buffer.getvalue()

    repeated = pa.DictionaryArray.from_arrays(pa.array(np.zeros(200_000, dtype=np.int32)), pa.array(["x" * 10_000]))
    return (written(pa.table({"a": pa.nulls(5_000_000, pa.int8()), "b": pa.nulls(5_000_000, pa.int8())})),
            written(pa.table({"text": repeated, "y": pa.nulls(200_000, pa.int8())}), store_schema=False),
            written(pa.table({f"c{index}": pa.nulls(10, pa.int8()) for index in range(3_000)})),
            written(pa.table({"nested": [[[1]]] * 20, "y": range(20)})))


@st.composite
def csv_payloads(draw: st.DrawFn) -> bytes:
    """A text table, well-formed or not: odd names, formulas, ragged rows, quotes, long fields, odd encodings."""
    delimiter = draw(st.sampled_from([",", ";", "\t", "|"]))
    width = draw(st.integers(1, 6))
    header = draw(st.lists(TEXT, min_size=width, max_size=width))
    rows = draw(st.lists(st.lists(CELLS, min_size=max(width - 1, 0), max_size=width + 1), max_size=15))
    if draw(st.booleans()):
        rows.append(["x" * draw(st.integers(1, 300_000))] * width)  # a huge field
    lines = [delimiter.join(header), *(delimiter.join(row) for row in rows)]
    text = draw(st.sampled_from(["\n", "\r\n", "\r"])).join(lines) + draw(st.sampled_from(["", "\n", '"', "\x00"]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "latin-1"]))
    return text.encode(encoding, errors="replace")


@st.composite
def parquet_payloads(draw: st.DrawFn) -> bytes:
    """A small valid Parquet file, then perhaps truncated or with bytes overwritten (the footer included)."""
    width = draw(st.integers(1, 4))
    rows = draw(st.integers(0, 30))
    columns = {f"{draw(TEXT)}_{index}": draw(st.sampled_from([
        pa.array(np.arange(rows, dtype=np.int64)), pa.array([draw(TEXT) for _ in range(rows)]),
        pa.array(np.linspace(-1e300, 1e300, rows)), pa.nulls(rows), pa.array([None] * rows, pa.string())]))
        for index in range(width)}
    buffer = io.BytesIO()
    pq.write_table(pa.table(columns), buffer, compression=draw(st.sampled_from(["none", "snappy", "zstd"])))
    payload = bytearray(buffer.getvalue())
    for _ in range(draw(st.integers(0, 4))):
        position = draw(st.integers(0, len(payload) - 1))
        payload[position] = draw(st.integers(0, 255))
    cut = draw(st.none() | st.integers(4, len(payload)))
    return bytes(payload[:cut] if cut is not None else payload)


PAYLOADS = (st.binary(max_size=2_000) | csv_payloads() | parquet_payloads()
            | st.integers(0, 3).map(lambda index: bombs()[index]))


def assert_table_or_one_line_error(outcome: object) -> None:
    if isinstance(outcome, pd.DataFrame):
        assert outcome.shape[1] >= 1 and len(set(outcome.columns)) == outcome.shape[1]
        return
    assert isinstance(outcome, MTLError), f"{type(outcome).__name__}: {str(outcome)[:500]}"
    text = str(outcome)
    assert "\n" not in text and len(text) < 700, text[:1000]


@pytest.fixture(scope="module")
def folder() -> Path:
    return Path(tempfile.mkdtemp(prefix="mtl-fuzz-uploads-"))


@FUZZ
@given(name=NAMES, payload=PAYLOADS)
def test_save_upload_gives_a_table_or_one_line_error_within_bounded_memory(folder: Path, name: str,
                                                                           payload: bytes) -> None:
    with mock.patch.object(uploads, "uploads_dir", lambda: folder):
        peak = peak_memory(lambda: save_upload(name, payload)[1], trace_python=False)
    assert_table_or_one_line_error(peak.outcome)
    assert peak.resident_bytes < MEMORY_MB * 2**20


@FUZZ
@given(payload=PAYLOADS)
def test_read_table_gives_a_table_or_one_line_error(payload: bytes) -> None:
    try:
        outcome: object = read_table(payload, "upload.csv")
    except Exception as error:  # noqa: BLE001  (checked below: only MTLError may come out)
        outcome = error
    assert_table_or_one_line_error(outcome)
