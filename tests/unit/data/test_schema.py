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
    ([1, 2, 3, 4, 5, 1, 2], "multiclass"),
    (["a", "b", "c"], "multiclass"),
])
def test_kind_is_suggested_from_the_values(values: list[object], kind: str) -> None:
    assert infer_kind(pd.Series(values)) == kind


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
