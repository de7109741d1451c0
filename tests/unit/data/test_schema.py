"""Column summaries, task-kind suggestions and column roles for a user's own table."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from mtl_core.config import DataConfig
from mtl_core.data import build_dataset, read_table
from mtl_core.data.schema import infer_kind, summarize, tasks_from_roles
from mtl_core.errors import DataError
from mtl_core.tasks import TaskSpec


@pytest.mark.parametrize(("values", "kind"), [
    (list(np.linspace(0, 1, 50)), "regression"),
    ([0, 1, 1, 0], "binary"),
    (["lunch", "dinner", None], "binary"),
    ([1, 2, 3, 4, 5] * 6, "multiclass"),
    (["a", "b", "c"], "multiclass"),
])
def test_kind_is_suggested_from_the_values(values: list[object], kind: str) -> None:
    assert infer_kind(pd.Series(values)) == kind


LINNERUD = {  # scikit-learn's load_linnerud targets: whole numbers stored as floats, 20 rows
    "Weight": [191, 189, 193, 162, 189, 182, 211, 167, 176, 154, 169, 166, 154, 247, 193, 202, 176, 157, 156, 138],
    "Waist": [36, 37, 38, 35, 35, 36, 38, 34, 31, 33, 34, 33, 34, 46, 36, 37, 37, 32, 33, 33],
    "Pulse": [50, 52, 58, 62, 46, 56, 56, 60, 74, 56, 50, 52, 64, 50, 46, 62, 54, 52, 54, 68],
}


@pytest.mark.parametrize("name", list(LINNERUD))
def test_body_measurements_with_9_to_16_values_in_20_rows_are_regression(name: str) -> None:
    column = pd.Series(LINNERUD[name], dtype=float)
    assert 9 <= column.nunique() <= 16 and infer_kind(column) == "regression"
    assert infer_kind(column.astype(int)) == "regression"  # the same numbers written without ".0"


def test_floats_with_a_fractional_part_are_regression_however_few_their_values() -> None:
    assert infer_kind(pd.Series([0.5, 1.5, 2.5] * 40)) == "regression"


def test_a_float_column_holding_a_few_whole_numbers_is_multiclass() -> None:
    quality = pd.Series([5.0, 6.0, 7.0, 6.0, 5.0, 8.0] * 30)  # e.g. an integer column with a missing cell read as float
    assert infer_kind(quality) == "multiclass"
    assert infer_kind(pd.concat([quality, pd.Series([np.nan] * 10)])) == "multiclass"


def test_many_whole_numbers_are_regression_and_a_few_labels_in_many_rows_are_classes() -> None:
    assert infer_kind(pd.Series(np.arange(300) % 40)) == "regression"  # more than FEW_VALUES distinct values
    assert infer_kind(pd.Series(np.arange(300) % 20)) == "multiclass"
    assert infer_kind(pd.Series(np.arange(30) % 10)) == "regression"  # three rows per label: too few to split


def test_text_labels_are_multiclass_whatever_their_count() -> None:
    assert infer_kind(pd.Series(["setosa", "versicolor", "virginica"] * 5)) == "multiclass"
    assert infer_kind(pd.Series([f"id{i}" for i in range(50)])) == "multiclass"


def test_missing_values_are_left_out_before_counting() -> None:
    assert infer_kind(pd.Series([0.0, 1.0, None, 1.0, None])) == "binary"
    assert infer_kind(pd.Series(["a", None, "b", "c", None])) == "multiclass"
    assert infer_kind(pd.Series([1.25, None, 2.5, 3.75])) == "regression"
    assert infer_kind(pd.Series([None, None], dtype=float)) == "regression"


def test_booleans_are_binary_even_with_one_value_present() -> None:
    assert infer_kind(pd.Series([True, False, True])) == "binary"
    assert infer_kind(pd.Series([True, True, True])) == "binary"
    assert infer_kind(pd.Series([True, None, False], dtype="boolean")) == "binary"


def test_summary_counts_missing_and_distinct_values() -> None:
    table = pd.DataFrame({"a": [1.0, None, 3.0], "b": ["x", "y", "x"]})
    summary = summarize(table).set_index("column")
    assert summary.loc["a", "missing"] == 1 and summary.loc["b", "distinct"] == 2
    assert summary.loc["b", "suggested_kind"] == "binary"


def test_roles_make_tasks_and_features() -> None:
    table = pd.DataFrame({"x": np.arange(30.0), "note": ["n"] * 30, "y": np.linspace(0, 3, 30), "c": [0, 1] * 15})
    tasks, features = tasks_from_roles(table, {"x": "feature", "note": "ignored", "y": "task", "c": "task"},
                                       kinds={"c": "binary"})
    assert [task.kind for task in tasks] == ["regression", "binary"] and features == ("x",)
    with pytest.raises(DataError, match="role 'task'"):
        tasks_from_roles(table, {"x": "feature"})


def test_several_derived_tasks_from_one_column() -> None:
    table = pd.DataFrame({"x": np.arange(100.0), "q": np.arange(100) % 7, "colour": ["red", "white"] * 50})
    tasks = (
        TaskSpec(name="score", column="q"),
        TaskSpec(name="high", column="q", kind="binary", threshold=4),
        TaskSpec(name="q3", column="q", kind="multiclass", bins=3),
        TaskSpec(name="q_cuts", column="q", kind="multiclass", bins=(2, 5)),
        TaskSpec(name="red", column="colour", kind="binary", equals="red"),
    )
    dataset = build_dataset(table, tasks, DataConfig(), "t.csv")
    assert dataset.info["q3"].output_dim == 3 and dataset.info["q_cuts"].output_dim == 3
    rows = dataset.train.rows
    assert np.array_equal(dataset.train.targets["high"].numpy(), (table["q"].to_numpy()[rows] >= 4).astype(float))
    assert np.array_equal(dataset.train.targets["red"].numpy(), (table["colour"].to_numpy()[rows] == "red") * 1.0)


def test_quantile_edges_come_from_training_rows_only() -> None:
    values = np.concatenate([np.arange(80.0), np.full(20, 1000.0)])
    table = pd.DataFrame({"x": np.arange(100.0), "v": values})
    task = TaskSpec(name="v2", column="v", kind="multiclass", bins=2)
    dataset = build_dataset(table, (task,), DataConfig(split_seed=0), "t.csv")
    median = float(np.median(values[dataset.train.rows]))
    edge = dataset.info["v2"].classes[0]
    assert edge == f"v < {median:g}"


@pytest.mark.parametrize(("text", "encoding"), [
    ("a,b\n1,é\n2,x\n", "utf-8"), ("a;b\n1;é\n2;x\n", "utf-8-sig"), ("a\tb\n1\té\n2\tx\n", "latin-1"),
    ("a|b\n1|é\n2|x\n", "utf-16"),
])
def test_delimiter_and_encoding_are_detected(text: str, encoding: str) -> None:
    table = read_table(text.encode(encoding), "t.csv")
    assert list(table.columns) == ["a", "b"] and table["b"].tolist() == ["é", "x"]


def test_parquet_reads_from_bytes_and_path(tmp_path: object) -> None:
    buffer = io.BytesIO()
    pd.DataFrame({"a": [1, 2], "b": [0.5, 1.5]}).to_parquet(buffer)
    assert read_table(buffer.getvalue(), "t.parquet")["b"].tolist() == [0.5, 1.5]
