"""Sizes that leave a part of the split empty are a one-line DataError naming the settings, not scikit-learn's."""

from __future__ import annotations

import numpy as np
import pytest

from mtl_core.config import DataConfig
from mtl_core.data.dataset import split_rows
from mtl_core.data.labels import task_labels
from mtl_core.errors import DataError
from mtl_core.tasks import TaskSpec


def test_ten_rows_with_large_test_and_validation_shares_are_refused_in_one_line() -> None:
    import pandas as pd

    task = TaskSpec(name="y", column="y")
    labels = {"y": task_labels(pd.DataFrame({"y": np.arange(10.0)}), task, "t.csv")}
    data = DataConfig(test_size=0.546875, val_size=0.34375, split_seed=0, stratify=False)
    with pytest.raises(DataError, match="data.test_size / data.val_size"):
        split_rows(10, (task,), labels, data)
