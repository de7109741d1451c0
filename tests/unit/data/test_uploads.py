"""Uploaded tables: checked on arrival, stored once under their hash, readable by path afterwards."""

from __future__ import annotations

import pytest

from mtl_core.config import ExperimentConfig
from mtl_core.data.uploads import save_upload, upload_name
from mtl_core.errors import DataError
from mtl_core.experiment import run_to_results

TABLE = b"x1,x2,y,label\n" + b"".join(f"{i},{i % 7},{2 * i + 1},{'ab'[i % 2]}\n".encode() for i in range(60))


def test_an_upload_is_stored_once_and_trains_by_path() -> None:
    path, table = save_upload("my table.csv", TABLE)
    again, _ = save_upload("my table.csv", TABLE)
    assert path == again and path.read_bytes() == TABLE and upload_name(path) == "my_table.csv"
    assert table.columns.tolist() == ["x1", "x2", "y", "label"]
    config = ExperimentConfig.from_dict({
        "data": {"path": str(path)}, "train": {"epochs": 2},
        "tasks": [{"name": "y", "column": "y"}, {"name": "label", "column": "label", "kind": "binary"}],
    })
    assert run_to_results(config)["status"] == "completed"


@pytest.mark.parametrize(("name", "payload", "words"), [
    ("data.xlsx", TABLE, "not a table this reader takes"),
    ("empty.csv", b"", "empty.csv is empty"),
    ("header.csv", b"a,b\n", "header.csv has a header but no rows"),
])
def test_a_bad_upload_is_refused_with_its_name_and_nothing_is_stored(name: str, payload: bytes, words: str) -> None:
    with pytest.raises(DataError, match=words):
        save_upload(name, payload)


def test_a_blank_header_cell_gets_a_name_as_pandas_gives_empty_ones() -> None:
    _, table = save_upload("blank.csv", b"a, \n1,2\n3,4\n")
    assert table.columns.tolist() == ["a", "Unnamed: 1"]
