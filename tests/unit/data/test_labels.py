"""task_labels: values and masks per task; derived labels from a threshold, a category or bins."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mtl_core.data.labels import task_labels
from mtl_core.errors import DataError
from mtl_core.tasks import TaskSpec


def test_a_missing_value_is_masked_and_stored_as_zero() -> None:
    table = pd.DataFrame({"y": [1.5, np.nan, 3.0]})
    labels = task_labels(table, TaskSpec(name="y", column="y"), "t.csv")
    assert labels.mask.tolist() == [True, False, True] and labels.values.tolist() == [1.5, 0.0, 3.0]


def test_a_threshold_gives_one_at_or_above_it() -> None:
    table = pd.DataFrame({"q": [5, 6, 7, np.nan]})
    labels = task_labels(table, TaskSpec(name="g", column="q", kind="binary", threshold=6), "t.csv")
    assert labels.values.tolist() == [0.0, 1.0, 1.0, 0.0] and labels.mask.tolist() == [True, True, True, False]


def test_equals_a_number_matches_numerically() -> None:
    table = pd.DataFrame({"q": [6.0, 5.0, 6.0]})
    labels = task_labels(table, TaskSpec(name="six", column="q", kind="binary", equals=6), "t.csv")
    assert labels.values.tolist() == [1.0, 0.0, 1.0]


def test_equals_a_word_matches_one_category_against_the_rest() -> None:
    table = pd.DataFrame({"colour": ["red", "white", "rosé"]})
    labels = task_labels(table, TaskSpec(name="red", column="colour", kind="binary", equals="red"), "t.csv")
    assert labels.values.tolist() == [1.0, 0.0, 0.0] and labels.classes == ("colour != red", "colour == red")


def test_cut_points_give_the_interval_index_as_numpy_digitize_does() -> None:
    values = np.array([0.0, 1.0, 1.5, 2.0, 9.0])
    labels = task_labels(pd.DataFrame({"v": values}),
                         TaskSpec(name="b", column="v", kind="multiclass", bins=(1.0, 2.0)), "t.csv")
    assert labels.values.tolist() == np.digitize(values, [1.0, 2.0]).tolist() == [0, 1, 1, 2, 2]
    assert labels.classes == ("v < 1", "1 <= v < 2", "v >= 2")


def test_quantile_edges_are_taken_from_the_fit_rows_only() -> None:
    values = np.array([1.0, 2.0, 3.0, 4.0, 100.0, 200.0])
    task = TaskSpec(name="b", column="v", kind="multiclass", bins=2)
    labels = task_labels(pd.DataFrame({"v": values}), task, "t.csv", fit_rows=np.array([0, 1, 2, 3]))
    assert labels.classes == ("v < 2.5", "v >= 2.5")


def test_routed_rows_are_labelled_only_for_their_own_task() -> None:
    table = pd.DataFrame({"y": [1.0, 2.0, 3.0], "task": ["a", "b", "a"]})
    labels = task_labels(table, TaskSpec(name="a", column="y"), "t.csv", routed_by="task")
    assert labels.mask.tolist() == [True, False, True]


def test_a_multiclass_column_with_one_value_is_refused() -> None:
    with pytest.raises(DataError, match="single class"):
        task_labels(pd.DataFrame({"k": ["x", "x"]}), TaskSpec(name="k", column="k", kind="multiclass"), "t.csv")


def test_classes_of_numbers_sort_numerically() -> None:
    labels = task_labels(pd.DataFrame({"k": [10, 9, 2, 10]}), TaskSpec(name="k", column="k", kind="multiclass"),
                         "t.csv")
    assert labels.classes == ("2", "9", "10") and labels.values.tolist() == [2.0, 1.0, 0.0, 2.0]


def test_a_binary_task_on_a_numeric_column_quotes_its_values_plainly() -> None:
    with pytest.raises(DataError) as caught:
        task_labels(pd.DataFrame({"quality": [3, 5, 8, 5]}), TaskSpec(name="q", column="quality", kind="binary"),
                    "red.csv")
    assert "holds 3 distinct values (3, 5, 8)" in str(caught.value)
