"""Bad input gets a clear error naming the file, column, row or setting, through the API and the CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from mtl_core.config import DataConfig, ExperimentConfig
from mtl_core.data import build_dataset, read_table
from mtl_core.errors import DataError, MTLError
from mtl_core.experiment import prepare
from mtl_core.tasks import TaskSpec

ROOT = Path(__file__).resolve().parents[3]


def table_of(n: int = 40, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n), "y": rng.normal(size=n),
                         "c": rng.integers(0, 2, size=n)})


def build(table: pd.DataFrame, *tasks: TaskSpec, **data: object) -> None:
    build_dataset(table, tasks, DataConfig(**data), "t.csv")


@pytest.mark.parametrize(("payload", "words"), [
    (b"", ["t.csv", "empty"]),
    (b"a,b\n", ["t.csv", "header but no rows"]),
    (b"a,a,b\n1,2,3\n4,5,6\n", ["duplicate column names", "'a'"]),
    (b"PK\x03\x04\x00\x00\x00binary", ["not a text table", "CSV"]),
    (b"only\n1\n2\n", ["single column", "delimiter"]),
    ((",".join(f"c{i}" for i in range(10_000)) + "\n" + ",".join("1" for _ in range(10_000))).encode(),
     ["10000 columns", "at most"]),
])
def test_unreadable_files_are_refused_with_the_reason(payload: bytes, words: list[str]) -> None:
    with pytest.raises(DataError) as caught:
        read_table(payload, "t.csv")
    assert all(word in str(caught.value) for word in words), str(caught.value)


def test_one_row_is_too_few_to_split() -> None:
    with pytest.raises(DataError, match=r"1 row\(s\); at least 10"):
        build(table_of(1), TaskSpec(name="y", column="y"))


def test_text_in_a_regression_target_names_column_row_and_value() -> None:
    table = table_of().astype({"y": object})
    table.loc[16, "y"] = "seven"
    with pytest.raises(DataError) as caught:
        build(table, TaskSpec(name="y", column="y"))
    assert "'y'" in str(caught.value) and "row 17" in str(caught.value) and "'seven'" in str(caught.value)


def test_binary_task_with_one_class_in_training_rows_is_refused() -> None:
    from sklearn.model_selection import train_test_split
    table = table_of(60)
    _, test = train_test_split(np.arange(60), test_size=0.2, random_state=1)
    table["c"] = "no"
    table.loc[test[0], "c"] = "yes"  # the only positive row lies in the test split
    with pytest.raises(DataError, match=r"task 'c' has a single class \('no'\) in the training split"):
        build(table, TaskSpec(name="c", column="c", kind="binary"), stratify=False, split_seed=1, val_size=0.0)


def test_class_seen_only_in_test_rows_is_named() -> None:
    table = table_of(60)
    table["k"] = np.arange(60) % 3
    from sklearn.model_selection import train_test_split
    _, test = train_test_split(np.arange(60), test_size=0.2, random_state=3)
    table.loc[test[0], "k"] = 9  # a class that exists only in the test split
    with pytest.raises(DataError) as caught:
        build(table, TaskSpec(name="k", column="k", kind="multiclass"), stratify=False, split_seed=3, val_size=0.0)
    assert "'9'" in str(caught.value) and "never in training" in str(caught.value)


def test_class_seen_only_in_validation_rows_is_named_like_a_test_only_one() -> None:
    table = table_of(60)
    table["k"] = np.arange(60) % 3
    task = TaskSpec(name="k", column="k", kind="multiclass")
    settings = {"stratify": False, "split_seed": 3, "val_size": 0.2}
    val_rows = build_dataset(table, (task,), DataConfig(**settings), "t.csv").val.rows  # unstratified: fixed rows
    table.loc[val_rows[0], "k"] = 9  # a class that exists only in the validation split
    with pytest.raises(DataError) as caught:
        build(table, task, **settings)
    assert str(caught.value).startswith("task 'k': class '9' appears in the validation split of t.csv but never in "
                                        "training")


def test_entirely_missing_feature_column_is_named() -> None:
    table = table_of().assign(empty=np.nan)
    with pytest.raises(DataError, match="'empty'.*entirely missing"):
        build(table, TaskSpec(name="y", column="y"))


@pytest.mark.parametrize("value", [np.inf, -np.inf, 1e308])
def test_infinite_or_huge_feature_values_are_named(value: float) -> None:
    table = table_of()
    table.loc[4, "a"] = value
    with pytest.raises(DataError) as caught:
        build(table, TaskSpec(name="y", column="y"))
    assert "'a'" in str(caught.value) and "row 5" in str(caught.value)


def test_task_without_labelled_training_rows_is_named() -> None:
    table = table_of().assign(z=np.nan)
    with pytest.raises(DataError, match="task 'z' has no labelled row"):
        build(table, TaskSpec(name="y", column="y"), TaskSpec(name="z", column="z"))


def test_image_that_is_not_an_image_names_the_file(tmp_path: Path) -> None:
    _image_folder(tmp_path, 12)
    (tmp_path / "img_3.png").write_bytes(b"this is text, not a picture")
    config = ExperimentConfig.from_dict({"data": {"path": str(tmp_path), "image_size": 8},
                                         "tasks": [{"name": "y", "column": "y"}]})
    with pytest.raises(DataError, match=r"img_3\.png.*row 4 of labels\.csv.*not an image"):
        prepare(config)


def test_labels_csv_naming_a_missing_file_names_row_and_file(tmp_path: Path) -> None:
    _image_folder(tmp_path, 12)
    (tmp_path / "img_5.png").unlink()
    config = ExperimentConfig.from_dict({"data": {"path": str(tmp_path), "image_size": 8},
                                         "tasks": [{"name": "y", "column": "y"}]})
    with pytest.raises(DataError, match=r"row 6 of labels\.csv names 'img_5\.png'"):
        prepare(config)


def _image_folder(folder: Path, n: int) -> None:
    rng = np.random.default_rng(0)
    for index in range(n):
        Image.fromarray((rng.random((10, 10)) * 255).astype(np.uint8)).save(folder / f"img_{index}.png")
    pd.DataFrame({"file": [f"img_{i}.png" for i in range(n)], "y": rng.normal(size=n)}).to_csv(
        folder / "labels.csv", index=False)


@pytest.mark.parametrize(("setting", "words"), [
    ("data.dataset=wine-rde", ["data.dataset", "wine-red"]),
    ("data.test_size=1.5", ["data.test_size"]),
    ("tasks.0.column=nope", ["tasks.0.column", "'nope'", "Columns:"]),
    ("data.params.correlation=2", ["data.params"]),
])
def test_cli_exits_2_with_one_line_naming_the_setting(setting: str, words: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mtl_core", "run", str(ROOT / "examples" / "diabetes.toml"), "--quiet",
         "--set", setting] + (["data.dataset=mmoe-synthetic", "tasks=[]"] if "params" in setting else []),
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert all(word in done.stderr for word in words), done.stderr


def test_every_error_here_is_an_mtl_error() -> None:
    assert issubclass(DataError, MTLError) and issubclass(DataError, ValueError)
