"""The split partitions the rows for any sizes, depends on split_seed alone, and stratifies where it can."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from mtl_core.config import DataConfig
from mtl_core.data.dataset import split_rows, stratify_keys
from mtl_core.data.labels import Labels, task_labels
from mtl_core.errors import DataError
from mtl_core.tasks import TaskSpec

TASKS = (TaskSpec(name="y", column="y"), TaskSpec(name="c", column="c", kind="binary"),
         TaskSpec(name="k", column="k", kind="multiclass"))


def labels_for(n: int, seed: int, missing: float) -> dict[str, Labels]:
    rng = np.random.default_rng(seed)
    table = pd.DataFrame({"y": rng.normal(size=n), "c": rng.integers(0, 2, size=n).astype(float),
                          "k": rng.integers(0, 3, size=n).astype(float)})
    table.loc[:2, ["c", "k"]] = [[0.0, 0.0], [1.0, 1.0], [0.0, 2.0]]  # every class present
    table.loc[(rng.random(n) < missing) & (np.arange(n) > 2), "c"] = np.nan
    return {task.name: task_labels(table, task, "t.csv") for task in TASKS}


sizes = st.tuples(st.floats(0.05, 0.6), st.floats(0.0, 0.35)).filter(lambda s: s[0] + s[1] < 0.9)


@settings(max_examples=120, deadline=None)
@given(n=st.integers(10, 300), size=sizes, split_seed=st.integers(0, 2**31 - 1), stratify=st.booleans(),
       missing=st.sampled_from([0.0, 0.3]), seed=st.integers(0, 1000))
def test_train_val_and_test_partition_the_rows(n: int, size: tuple[float, float], split_seed: int, stratify: bool,
                                               missing: float, seed: int) -> None:
    test_size, val_size = size
    data = DataConfig(test_size=test_size, val_size=val_size, split_seed=split_seed, stratify=stratify)
    labels = labels_for(n, seed, missing)
    try:
        train, val, test = split_rows(n, TASKS, labels, data)
    except DataError:
        assume(False)  # too few rows for these sizes: refused with a message, which is fine
        return
    every = np.concatenate([train, val, test])
    assert len(every) == n and set(every.tolist()) == set(range(n))
    assert len(test) == pytest.approx(test_size * n, abs=1.0 + 1e-9)
    assert len(val) == (0 if val_size == 0 else pytest.approx(val_size * n, abs=2.0))
    assert len(train) >= 2 and len(test) >= 2
    again = split_rows(n, TASKS, labels, data)
    assert all(np.array_equal(a, b) for a, b in zip((train, val, test), again, strict=True))


@settings(max_examples=60, deadline=None)
@given(n=st.integers(60, 300), seed=st.integers(0, 1000), split_seed=st.integers(0, 2**31 - 1))
def test_a_stratified_split_keeps_the_binary_share_within_one_row(n: int, seed: int, split_seed: int) -> None:
    labels = labels_for(n, seed, 0.0)
    tasks = TASKS[:2]  # one classification task: its labels are the key
    train, _, test = split_rows(n, tasks, labels, DataConfig(test_size=0.25, val_size=0.0, split_seed=split_seed))
    positives = labels["c"].values
    expected = positives.mean() * len(test)
    assert abs(positives[test].sum() - expected) <= 1.0


@settings(max_examples=80, deadline=None)
@given(n=st.integers(3, 60), seed=st.integers(0, 1000), missing=st.sampled_from([0.0, 0.5]))
def test_stratify_keys_put_the_joint_key_first_then_one_per_classification_task(n: int, seed: int,
                                                                                missing: float) -> None:
    labels = labels_for(n, seed, missing)
    joint, per_c, per_k = stratify_keys(TASKS, labels)
    assert len(joint) == len(per_c) == len(per_k) == n
    assert [key.split("|") for key in joint] == [[a, b] for a, b in zip(per_c, per_k, strict=True)]
    unlabelled = ~labels["c"].mask
    assert set(per_c[unlabelled]) <= {"missing"} and "missing" not in set(per_c[~unlabelled])
    assert stratify_keys(TASKS[:1], labels) == []  # regression alone gives no key
