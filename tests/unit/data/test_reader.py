"""read_table: delimiter and encoding detection, and errors that say what to check."""

from __future__ import annotations

from pathlib import Path

import pytest

from mtl_core.data import read_table
from mtl_core.errors import DataError

EXPECTED_COLUMNS = ["name", "score", "note"]


def rows(delimiter: str) -> str:
    return delimiter.join(EXPECTED_COLUMNS) + "\n" + delimiter.join(["café", "1.5", "a"]) + "\n" \
        + delimiter.join(["thé", "2.5", "b"]) + "\n"


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_the_delimiter_is_detected(delimiter: str) -> None:
    table = read_table(rows(delimiter).encode("utf-8"), "t.csv")
    assert list(table.columns) == EXPECTED_COLUMNS
    assert table["score"].tolist() == [1.5, 2.5] and table["name"].tolist() == ["café", "thé"]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "latin-1"])
def test_utf8_with_or_without_a_byte_order_mark_and_latin1_bytes_are_read(encoding: str) -> None:
    table = read_table(rows(";").encode(encoding), "t.csv")
    assert list(table.columns) == EXPECTED_COLUMNS  # a BOM does not stick to the first name
    assert table["name"].tolist() == ["café", "thé"]


def test_the_wine_files_semicolons_and_quoted_header_are_read(wine_available: Path) -> None:
    table = read_table(wine_available / "winequality-red.csv")
    assert table.shape == (1599, 12) and table.columns[0] == "fixed acidity" and table.columns[-1] == "quality"


def test_a_path_and_its_bytes_read_the_same(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(rows(",").encode("utf-8"))
    assert read_table(path).equals(read_table(path.read_bytes()))



@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "latin-1", "utf-16"])
def test_a_file_read_from_its_path_a_megabyte_at_a_time_is_its_bytes_table(tmp_path: Path, encoding: str,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from mtl_core.data.reader import TextSource
    monkeypatch.setattr(TextSource, "CHUNK", 7)  # characters and the BOM cut across chunks
    text = rows(";") * 40
    path = tmp_path / "t.csv"
    path.write_bytes(text.encode(encoding))
    monkeypatch.setattr(Path, "read_bytes", lambda self: pytest.fail("the whole file was read at once"))
    assert read_table(path).equals(read_table(text.encode(encoding), "t.csv"))


@pytest.mark.parametrize(("payload", "words"), [(b"a,b\n1,\x002\n", "binary bytes"),
                                                (b"\xff\xfea\x00,\x00b\x00\n\x00\x00\x00", "NUL characters")])
def test_binary_content_is_refused_the_same_from_a_path(tmp_path: Path, payload: bytes, words: str) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(payload)
    with pytest.raises(DataError, match=words):
        read_table(path)

def test_header_names_are_stripped_of_spaces() -> None:
    assert list(read_table(b" a , b\n1,2\n").columns) == ["a", "b"]


def test_a_one_column_file_is_refused_mentioning_the_delimiter() -> None:
    with pytest.raises(DataError) as caught:
        read_table(b"only\n1\n2\n", "one.csv")
    message = str(caught.value)
    assert message.startswith("one.csv has a single column ('only')") and "delimiter" in message


def test_a_comma_read_of_the_semicolon_wine_file_would_be_one_column(wine_available: Path) -> None:
    text = (wine_available / "winequality-red.csv").read_text(encoding="ascii")
    semicolons_as_colons = text.replace(";", ":")  # a separator the reader does not try
    with pytest.raises(DataError, match="single column.*delimiter"):
        read_table(semicolons_as_colons.encode("ascii"), "wine.csv")


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="nope.csv.*does not exist"):
        read_table(tmp_path / "nope.csv")


@pytest.mark.parametrize(("payload", "words"), [(b"", "is empty"), (b"  \n\n", "is empty"),
                                                (b"a,b\n", "header but no rows")])
def test_an_empty_file_is_refused(payload: bytes, words: str) -> None:
    with pytest.raises(DataError, match=words):
        read_table(payload, "t.csv")


def test_the_uploaded_file_is_the_default_label() -> None:
    with pytest.raises(DataError, match="^the uploaded file is empty"):
        read_table(b"")


def test_a_trailing_delimiter_on_every_data_row_does_not_shift_the_columns() -> None:
    try:
        table = read_table(b"x,y\n1,2,\n3,4,\n", "t.csv")
    except DataError:
        return  # refusing the file is fine too
    assert table["x"].tolist() == [1, 3] and table["y"].tolist() == [2, 4]


EUROPEAN = (
    "name;price;weight;note\n"
    "café;1,5;1.234,5;a,b\n"
    "thé;2;-0,25;c\n"
    "eau;;12,0;d\n"
).encode("utf-8")


def test_decimal_commas_in_a_semicolon_file_are_read_as_numbers() -> None:
    table = read_table(EUROPEAN, "eu.csv")
    assert table["price"].tolist()[:2] == [1.5, 2.0] and table["price"].isna().tolist() == [False, False, True]
    assert table["weight"].tolist() == [1234.5, -0.25, 12.0]  # '.' groups thousands when ',' is the decimal mark


def test_genuine_text_with_commas_stays_text() -> None:
    table = read_table(EUROPEAN, "eu.csv")
    assert table["note"].tolist() == ["a,b", "c", "d"] and table["name"].tolist() == ["café", "thé", "eau"]


def test_thousands_grouping_without_decimals_is_read_once_the_column_shows_it() -> None:
    table = read_table(b"x;y\n1.234,5;a\n1.000;b\n7;c\n", "t.csv")
    assert table["x"].tolist() == [1234.5, 1000.0, 7.0]


@pytest.mark.parametrize(("value", "row"), [("1.5", 2), ("1.234", 3)])
def test_a_column_mixing_decimal_commas_and_points_is_refused_naming_column_row_and_value(value: str, row: int) -> None:
    payload = b"x;y\n1,5;a\n" + (b"2;b\n" if row == 3 else b"") + f"{value};c\n".encode()
    with pytest.raises(DataError) as caught:
        read_table(payload, "t.csv")
    message = str(caught.value)
    assert message.startswith(f"column 'x' (row {row} of t.csv) holds {value!r}") and "'1,5'" in message
    assert "Write every number of the column" in message


def test_a_quoted_comma_in_a_comma_separated_file_is_left_as_text() -> None:
    table = read_table(b'x,y\n"1,5",a\n"2,5",b\n', "t.csv")  # could be a thousands separator there
    assert table["x"].tolist() == ["1,5", "2,5"]


def test_a_file_ending_in_half_a_utf8_character_is_read_as_latin1(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(rows(",").encode("utf-8") + b"x,1,\xc3")
    table = read_table(path)
    assert table["note"].tolist()[-1] == "Ã" and read_table(path.read_bytes(), "t.csv").equals(table)


def test_a_table_read_in_pieces_is_the_table_pandas_reads_in_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past ROWS_AT_ONCE rows the reader joins pieces column by column: the types and values are pandas' own,
    even where a piece holds only missing values of a text column or a column turns from integers to floats."""
    import io

    import pandas as pd

    from mtl_core.data import reader

    lines = ["count,score,name,flag,mixed"]
    for row in range(23):
        name = "" if 4 <= row < 12 else f"n{row % 3}"  # the second and third pieces: no name at all
        score = "" if row % 5 == 0 else f"{row / 7:.4f}"
        mixed = str(row) if row < 16 else f"{row}.5"  # integers in the first pieces, floats later
        lines.append(f"{row},{score},{name},{'True' if row % 2 else 'False'},{mixed}")
    payload = ("\n".join(lines) + "\n").encode()
    monkeypatch.setattr(reader, "ROWS_AT_ONCE", 4)
    pieces = read_table(payload, "t.csv")
    whole = pd.read_csv(io.BytesIO(payload), index_col=False)
    pd.testing.assert_frame_equal(pieces, whole)
    assert pieces["name"].dtype == whole["name"].dtype and pieces["mixed"].dtype == "float64"


def test_the_row_limit_holds_for_a_table_read_in_pieces(monkeypatch: pytest.MonkeyPatch) -> None:
    from mtl_core.data import reader

    monkeypatch.setattr(reader, "ROWS_AT_ONCE", 3)
    monkeypatch.setattr(reader, "MAX_ROWS", 10)
    payload = ("a,b\n" + "".join(f"{row},{row * 2}\n" for row in range(11))).encode()
    with pytest.raises(DataError, match="more than 10 rows"):
        read_table(payload, "t.csv")
    assert len(read_table(payload.rsplit(b"\n", 2)[0] + b"\n", "t.csv")) == 10


def test_freed_memory_is_handed_back_only_when_worth_a_trim() -> None:
    import sys

    from mtl_core.data.memory import RELEASE_BYTES, release_freed

    assert release_freed(RELEASE_BYTES - 1) is False
    assert release_freed(RELEASE_BYTES) is (sys.platform.startswith("linux") and _glibc())


def _glibc() -> bool:
    import platform

    return platform.libc_ver()[0] == "glibc"
