"""Uploaded tables are checked against every size limit before they are read in full (Parquet: from the footer)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mtl_core.data import parquet, reader, read_table
from mtl_core.errors import DataError
from tests.unit.uploads.memory import peak_memory

def parquet_bytes(table: pa.Table, **options: object) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(table, buffer, **options)  # type: ignore[arg-type]
    return buffer.getvalue()


@pytest.fixture(scope="module")
def hundred_million_rows() -> bytes:
    """A 0.4 MB Parquet file whose footer says 100 000 000 rows (all missing)."""
    return parquet_bytes(pa.table({"a": pa.nulls(100_000_000, pa.int8()), "b": pa.nulls(100_000_000, pa.int8())}),
                         row_group_size=10_000_000)


def test_a_parquet_file_of_100_million_rows_is_refused_from_its_footer_with_little_memory(
        hundred_million_rows: bytes) -> None:
    assert len(hundred_million_rows) < 2**20
    peak = peak_memory(lambda: read_table(hundred_million_rows, "bomb.parquet"))
    assert isinstance(peak.outcome, DataError) and "100000000 rows" in str(peak.outcome)
    assert "MTL_MAX_ROWS" in str(peak.outcome) and peak.mb < 32


def test_a_small_parquet_file_of_one_long_text_repeated_is_refused_before_it_is_decoded() -> None:
    repeated = pa.DictionaryArray.from_arrays(pa.array(np.zeros(1_000_000, dtype=np.int32)), pa.array(["x" * 10_000]))
    payload = parquet_bytes(pa.table({"text": repeated, "y": pa.array(np.zeros(1_000_000, dtype=np.int8))}),
                            compression="zstd", store_schema=False)  # plain text to pandas: 10 GB once decoded
    assert len(payload) < 4 * 2**20
    peak = peak_memory(lambda: read_table(payload, "bomb.parquet"))
    assert isinstance(peak.outcome, DataError) and "MB of values" in str(peak.outcome)
    assert "MTL_MAX_UPLOAD_MB" in str(peak.outcome) and peak.mb < 64


def test_a_parquet_footer_declaring_more_bytes_than_the_budget_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parquet, "MAX_TABLE_MB", 1)
    payload = parquet_bytes(pa.table({"text": [f"{index:0>64}" for index in range(40_000)], "y": range(40_000)}),
                            use_dictionary=False)
    with pytest.raises(DataError, match="MB of values once decompressed"):
        read_table(payload, "wide.parquet")


@pytest.mark.parametrize(("limit", "value", "shape"), [("MAX_ROWS", 50, (60, 2)), ("MAX_COLUMNS", 3, (20, 4)),
                                                       ("MAX_CELLS", 100, (60, 2))])
def test_parquet_rows_columns_and_cells_past_a_limit_are_refused_naming_it(
        monkeypatch: pytest.MonkeyPatch, limit: str, value: int, shape: tuple[int, int]) -> None:
    monkeypatch.setattr(parquet, limit, value)
    rows, columns = shape
    payload = parquet_bytes(pa.table({f"c{index}": np.arange(rows) for index in range(columns)}))
    with pytest.raises(DataError, match=f"MTL_{limit}"):
        read_table(payload, "t.parquet")


def test_a_parquet_column_of_lists_is_refused_naming_it() -> None:
    payload = parquet_bytes(pa.table({"nested": [[1, 2]] * 20, "y": range(20)}))
    with pytest.raises(DataError, match="column 'nested' of t.parquet holds list"):
        read_table(payload, "t.parquet")


def test_a_parquet_table_within_the_limits_is_read_with_its_text_as_text() -> None:
    payload = parquet_bytes(pa.table({"kind": ["a", "b", None] * 10, "y": np.arange(30.0)}))
    table = read_table(payload, "t.parquet")
    assert table.shape == (30, 2) and table["kind"].tolist()[:2] == ["a", "b"] and table["kind"].isna()[2]
    assert not isinstance(table["kind"].dtype, pd.CategoricalDtype)


@pytest.mark.parametrize(("limit", "value", "rows", "columns"), [("MAX_ROWS", 50, 51, 2), ("MAX_CELLS", 100, 51, 2)])
def test_csv_rows_and_cells_past_a_limit_are_refused_naming_it(monkeypatch: pytest.MonkeyPatch, limit: str,
                                                               value: int, rows: int, columns: int) -> None:
    monkeypatch.setattr(reader, limit, value)
    lines = [",".join(f"c{index}" for index in range(columns))] + [",".join(["1"] * columns)] * rows
    with pytest.raises(DataError, match=f"MTL_{limit}"):
        read_table("\n".join(lines).encode(), "t.csv")


def test_csv_rows_past_the_limit_are_never_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reader, "MAX_ROWS", 50)
    lines = ["a,b"] + ["1,2"] * 60 + ["1,2,3,4,5"]  # a broken line after the limit is never reached
    with pytest.raises(DataError, match="MTL_MAX_ROWS"):
        read_table("\n".join(lines).encode(), "t.csv")


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_file_past_the_upload_size_is_refused_before_it_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                                  suffix: str) -> None:
    monkeypatch.setattr(reader, "MAX_UPLOAD_MB", 1)
    path = tmp_path / f"big{suffix}"
    path.write_bytes(b"PAR1" + b"\x00" * (2 * 2**20))
    for source in (path, path.read_bytes()):
        with pytest.raises(DataError, match="MTL_MAX_UPLOAD_MB"):
            read_table(source, path.name)


def test_error_messages_cut_long_names_and_never_quote_the_files_contents() -> None:
    secret = "s3cr3t-" * 100
    with pytest.raises(DataError) as caught:
        read_table(f"{secret}\n1\n2\n".encode(), "n" * 1000 + ".csv")
    assert secret not in str(caught.value) and "n" * 300 not in str(caught.value) and len(str(caught.value)) < 600


def test_an_image_listing_past_max_images_is_refused_without_parsing_the_rest(monkeypatch: pytest.MonkeyPatch,
                                                                             tmp_path: Path) -> None:
    from mtl_core import predict

    monkeypatch.setattr(predict, "MAX_IMAGES", 5)
    listing = tmp_path / "labels.csv"
    listing.write_text("file\n" + "".join(f"{index}.png\n" for index in range(10)) + "a,b,c,\"\n", encoding="utf-8")
    with pytest.raises(DataError, match="more than 5 images.*MTL_MAX_IMAGES"):
        predict.read_listing(listing, "file")


def test_a_parquet_file_of_too_many_row_groups_is_refused_from_its_footer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parquet, "MAX_ROW_GROUPS", 5)
    payload = parquet_bytes(pa.table({"a": np.arange(20), "y": np.arange(20)}), row_group_size=2)
    with pytest.raises(DataError, match="10 row groups; at most 5"):
        read_table(payload, "t.parquet")


def test_the_delimiter_is_found_in_linear_time_without_csv_sniffer(monkeypatch: pytest.MonkeyPatch) -> None:
    def quadratic(*_: object) -> None:  # csv.Sniffer's regular expressions: 50 s on 64 KB of ',"' repeated
        raise AssertionError("csv.Sniffer is quadratic on hostile text")

    monkeypatch.setattr(reader.csv, "Sniffer", quadratic)
    assert reader.sniff_delimiter(',"' * 32_000) == ","
    for delimiter in ",;\t|":
        assert read_table(f"a{delimiter}b\n1,5{delimiter}2\n3{delimiter}4\n".encode(), "t.csv").shape == (2, 2)


def test_a_long_number_like_value_beside_decimal_commas_is_checked_in_linear_time() -> None:
    import signal

    def too_slow(*_: object) -> None:
        raise AssertionError("a backtracking regular expression: quadratic in the value's length")

    previous = signal.signal(signal.SIGALRM, too_slow)
    signal.alarm(10)  # linear: milliseconds; the quadratic pattern took about 30 minutes
    try:
        table = read_table(("a;b\n1,5;1\n2,5;2\n" + "1" * 200_000 + "x;3\n").encode(), "t.csv")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert table.shape == (3, 2) and table["a"].dtype == object or pd.api.types.is_string_dtype(table["a"])
