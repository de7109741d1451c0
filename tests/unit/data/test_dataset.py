"""build_dataset: split sizes and seeds, stratification, no leakage into the preprocessor, masked labels."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mtl_core.config import DataConfig, ExperimentConfig
from mtl_core.data import MTLDataset, build_dataset, load_table
from mtl_core.data.preprocess import ColumnwisePreprocessor
from mtl_core.errors import DataError
from mtl_core.experiment import prepare
from mtl_core.tasks import TaskSpec
from tests.fixtures.builders import toy_table

Y = TaskSpec(name="y", column="y")
C = TaskSpec(name="c", column="c", kind="binary")


def splits(dataset: MTLDataset) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return dataset.train.rows, dataset.val.rows, dataset.test.rows


def numeric_step(dataset: MTLDataset, name: str, attribute: str) -> np.ndarray:
    """A fitted attribute of one step of the numeric columns of a table dataset's preprocessor, one per column."""
    assert isinstance(dataset.preprocessor, ColumnwisePreprocessor)
    numeric = set(dataset.preprocessor.numeric)
    steps = [steps.named_steps[name] for part, steps in dataset.preprocessor.parts_ if part[0] in numeric]
    return np.concatenate([getattr(step, attribute) for step in steps])


def wine(**data: object) -> tuple[ExperimentConfig, MTLDataset]:
    return prepare(ExperimentConfig.from_dict({"data": {"dataset": "wine-red", **data}}))


# --- split ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("test_size", "val_size"), [(0.2, 0.1), (0.3, 0.0), (0.1, 0.3)])
def test_split_sizes_follow_test_size_and_val_size(wine_available: object, test_size: float, val_size: float) -> None:
    _, dataset = wine(test_size=test_size, val_size=val_size)
    n = 1599
    assert abs(len(dataset.test) - test_size * n) <= 1
    assert abs(len(dataset.val) - val_size * n) <= 1
    assert len(dataset.train) + len(dataset.val) + len(dataset.test) == n


def test_the_split_partitions_the_rows_in_sorted_order() -> None:
    dataset = build_dataset(toy_table(100), (Y, C), DataConfig(), "toy.csv")
    rows = np.concatenate(splits(dataset))
    assert sorted(rows.tolist()) == list(range(100))
    assert all(np.array_equal(part, np.sort(part)) for part in splits(dataset))


def test_the_split_is_a_function_of_split_seed_only() -> None:
    base = {"data": {"dataset": "diabetes", "split_seed": 7}, "train": {"seed": 0}}
    _, first = prepare(ExperimentConfig.from_dict(base))
    _, again = prepare(ExperimentConfig.from_dict({
        **base, "train": {"seed": 99, "lr": 0.5, "epochs": 3}, "model": {"hidden": [3]}, "strategy": {"name": "static"},
    }))
    _, other = prepare(ExperimentConfig.from_dict({**base, "data": {"dataset": "diabetes", "split_seed": 8}}))
    assert all(np.array_equal(a, b) for a, b in zip(splits(first), splits(again), strict=True))
    assert not np.array_equal(first.test.rows, other.test.rows)


def test_the_same_split_seed_gives_the_same_split_on_a_fresh_table() -> None:
    first = build_dataset(toy_table(90), (Y, C), DataConfig(split_seed=3), "toy.csv")
    second = build_dataset(toy_table(90), (Y, C), DataConfig(split_seed=3), "toy.csv")
    assert all(np.array_equal(a, b) for a, b in zip(splits(first), splits(second), strict=True))


def test_stratification_keeps_the_class_share_close_in_every_split(wine_available: object) -> None:
    config, dataset = wine(test_size=0.2, val_size=0.2, stratify=True)
    table, _ = load_table(config.data)
    overall = float((table["quality"] >= 6).mean())
    for split in (dataset.train, dataset.val, dataset.test):
        share = float(split.targets["good"].mean())
        assert abs(share - overall) < 0.005, (len(split), share, overall)


def test_stratification_keeps_every_class_share_of_a_multiclass_task_close() -> None:
    table = toy_table(300)
    table["k"] = np.where(np.arange(300) % 10 == 0, "rare", table["k"])
    task = TaskSpec(name="k", column="k", kind="multiclass")
    dataset = build_dataset(table, (task,), DataConfig(test_size=0.3, val_size=0.2), "toy.csv")
    counts = {name: np.bincount(split.targets["k"].numpy(), minlength=4) / len(split)
              for name, split in (("train", dataset.train), ("val", dataset.val), ("test", dataset.test))}
    overall = np.mean(list(counts.values()), axis=0)
    for share in counts.values():
        assert np.abs(share - overall).max() < 0.03


def test_without_stratification_the_split_ignores_the_labels() -> None:
    table = toy_table(100)
    flipped = table.assign(c=1 - table["c"])
    first = build_dataset(table, (Y, C), DataConfig(stratify=False), "toy.csv")
    second = build_dataset(flipped, (Y, C), DataConfig(stratify=False), "toy.csv")
    assert np.array_equal(first.test.rows, second.test.rows)


# --- no leakage -------------------------------------------------------------------------------------------------


def test_the_scaler_is_fitted_on_the_training_rows_only(wine_available: object) -> None:
    config, dataset = wine(test_size=0.2, val_size=0.1)
    table, _ = load_table(config.data)
    mean, scale = numeric_step(dataset, "scale", "mean_"), numeric_step(dataset, "scale", "scale_")
    features = table[list(dataset.feature_columns)]
    train_rows = features.iloc[dataset.train.rows]
    np.testing.assert_allclose(mean, train_rows.mean().to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(scale, train_rows.std(ddof=0).to_numpy(), rtol=1e-12)
    assert not np.allclose(mean, features.mean().to_numpy(), rtol=1e-6, atol=0)
    assert not np.allclose(scale, features.std(ddof=0).to_numpy(), rtol=1e-6, atol=0)


def test_training_features_are_standardised_and_held_out_ones_use_the_training_statistics() -> None:
    table = toy_table(200).drop(columns="k")
    dataset = build_dataset(table, (Y, C), DataConfig(), "toy.csv")
    train = dataset.train.features.double()
    assert torch.allclose(train.mean(0), torch.zeros(3, dtype=torch.float64), atol=1e-6)
    assert torch.allclose(train.std(0, unbiased=False), torch.ones(3, dtype=torch.float64), atol=1e-5)
    raw = table[["x0", "x1", "x2"]].to_numpy()
    mean, std = raw[dataset.train.rows].mean(0), raw[dataset.train.rows].std(0)
    expected = (raw[dataset.test.rows] - mean) / std
    np.testing.assert_allclose(dataset.test.features.numpy(), expected, rtol=1e-5, atol=1e-5)


def test_missing_feature_values_are_filled_with_the_training_median() -> None:
    table = toy_table(100)
    table.loc[::4, "x0"] = np.nan
    dataset = build_dataset(table, (Y, C), DataConfig(), "toy.csv")
    medians = numeric_step(dataset, "impute", "statistics_")
    assert medians[0] == pytest.approx(np.nanmedian(table["x0"].to_numpy()[dataset.train.rows]))
    assert all(bool(split.features.isfinite().all()) for split in (dataset.train, dataset.val, dataset.test))


def test_a_standardised_regression_target_uses_training_statistics() -> None:
    table = toy_table(100)
    task = TaskSpec(name="y", column="y", standardize=True)
    dataset = build_dataset(table, (task, C), DataConfig(), "toy.csv")
    train_y = table["y"].to_numpy()[dataset.train.rows]
    assert dataset.info["y"].target_mean == pytest.approx(train_y.mean())
    assert dataset.info["y"].target_scale == pytest.approx(train_y.std())
    assert float(dataset.train.targets["y"].mean()) == pytest.approx(0.0, abs=1e-5)


# --- columns and labels ------------------------------------------------------------------------------------------


def test_features_are_every_column_no_task_uses_with_text_one_hot_encoded() -> None:
    dataset = build_dataset(toy_table(60), (Y, C), DataConfig(), "toy.csv")
    assert dataset.feature_columns == ("x0", "x1", "x2", "k")
    assert dataset.encoded_features == ("x0", "x1", "x2", "k_high", "k_low", "k_mid")
    assert dataset.input_shape == (6,) and dataset.in_features == 6


def test_a_target_named_as_a_feature_is_refused_as_a_leak() -> None:
    with pytest.raises(DataError, match="'y', a task's target column: that would leak the label"):
        build_dataset(toy_table(60), (Y,), DataConfig(features=("x0", "y")), "toy.csv")


def test_missing_labels_are_masked_not_dropped() -> None:
    table = toy_table(60)
    missing = np.arange(60) % 4 == 1
    table.loc[missing, "y"] = np.nan
    dataset = build_dataset(table, (Y, C), DataConfig(), "toy.csv")
    assert len(dataset.train) + len(dataset.val) + len(dataset.test) == 60  # every row kept
    for split in (dataset.train, dataset.val, dataset.test):
        assert np.array_equal(split.masks["y"].numpy(), ~missing[split.rows])
        assert bool(split.masks["c"].all())  # the other task keeps its label on those rows
        assert bool(split.targets["y"].isfinite().all())  # no nan reaches a tensor
        assert bool((split.targets["y"][~split.masks["y"]] == 0).all())


def test_a_missing_task_column_names_the_key_and_lists_the_columns() -> None:
    with pytest.raises(DataError) as caught:
        build_dataset(toy_table(), (Y, TaskSpec(name="q", column="quality")), DataConfig(), "toy.csv")
    message = str(caught.value)
    assert message.startswith("tasks.1.column = 'quality': toy.csv has no such column.")
    assert "Columns: x0, x1, x2, y, c, k" in message


def test_a_misspelt_task_column_gets_a_suggestion() -> None:
    with pytest.raises(DataError, match="Did you mean 'x0'"):
        build_dataset(toy_table(), (TaskSpec(name="t", column="x00"),), DataConfig(), "toy.csv")


def test_text_in_a_regression_column_names_the_column_row_and_value() -> None:
    table = toy_table().astype({"y": object})
    table.loc[4, "y"] = "seven"
    with pytest.raises(DataError) as caught:
        build_dataset(table, (Y,), DataConfig(), "toy.csv")
    message = str(caught.value)
    assert "column 'y' (row 5 of toy.csv) holds 'seven'" in message and 'kind = "multiclass"' in message


def test_a_binary_task_on_a_three_valued_column_explains_what_to_do() -> None:
    with pytest.raises(DataError) as caught:
        build_dataset(toy_table(), (TaskSpec(name="k", column="k", kind="binary"),), DataConfig(), "toy.csv")
    message = str(caught.value)
    assert "holds 3 distinct values ('high', 'low', 'mid')" in message and "needs exactly 2" in message
    assert "threshold" in message and 'kind = "multiclass"' in message


def test_a_text_binary_task_gets_sorted_class_names_and_bce_targets() -> None:
    table = toy_table(60).assign(colour=lambda t: np.where(t["c"] == 1, "white", "red"))
    task = TaskSpec(name="colour", column="colour", kind="binary")
    dataset = build_dataset(table.drop(columns="c"), (task,), DataConfig(), "toy.csv")
    assert dataset.info["colour"].classes == ("red", "white") and dataset.info["colour"].output_dim == 1
    expected = (table["colour"].to_numpy()[dataset.train.rows] == "white").astype(np.float32)
    assert np.array_equal(dataset.train.targets["colour"].numpy(), expected)


def test_a_multiclass_task_has_one_output_per_class_and_integer_targets() -> None:
    dataset = build_dataset(toy_table(), (TaskSpec(name="k", column="k", kind="multiclass"),), DataConfig(), "toy.csv")
    assert dataset.info["k"].output_dim == 3 and dataset.train.targets["k"].dtype == torch.int64


def test_a_threshold_task_labels_rows_at_or_above_it() -> None:
    table = toy_table()
    task = TaskSpec(name="big", column="y", kind="binary", threshold=0.5)
    dataset = build_dataset(table, (Y, task), DataConfig(), "toy.csv")
    expected = (table["y"].to_numpy()[dataset.test.rows] >= 0.5).astype(np.float32)
    assert np.array_equal(dataset.test.targets["big"].numpy(), expected)
    assert dataset.info["big"].classes == ("y < 0.5", "y >= 0.5")


def test_a_table_too_small_to_split_is_refused() -> None:
    with pytest.raises(DataError, match="row"):
        build_dataset(toy_table(5), (Y,), DataConfig(), "toy.csv")


def test_features_encoded_a_piece_at_a_time_are_those_encoded_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    import mtl_core.data.dataset as dataset_module
    table = toy_table(200)
    table.loc[::7, table.columns[0]] = np.nan  # the imputer too
    whole = build_dataset(table, (Y, C), DataConfig(), "toy.csv")
    monkeypatch.setattr(dataset_module, "ENCODED_ROWS", 9)
    pieces = build_dataset(table, (Y, C), DataConfig(), "toy.csv")
    for split in ("train", "val", "test"):
        assert torch.equal(getattr(whole, split).features, getattr(pieces, split).features)
        encoded = whole.preprocessor.transform(table.iloc[getattr(whole, split).rows][list(whole.feature_columns)])
        assert torch.equal(getattr(whole, split).features, torch.as_tensor(np.asarray(encoded, dtype=np.float32)))
