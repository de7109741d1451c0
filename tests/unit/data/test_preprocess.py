"""The column-by-column preprocessor gives the features a scikit-learn ColumnTransformer gives, bit for bit."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import mtl_core.data.encoding as encoding
from mtl_core.config import DataConfig, ExperimentConfig
from mtl_core.data import MTLDataset, build_dataset, encode_features, load_data
from mtl_core.data.encoding import split_columns
from mtl_core.data.preprocess import ColumnwisePreprocessor
from mtl_core.experiment import check
from mtl_core.tasks import TaskSpec
from tests.fixtures.builders import toy_table

Y = TaskSpec(name="y", column="y")
C = TaskSpec(name="c", column="c", kind="binary")


def column_transformer(features: pd.DataFrame) -> ColumnTransformer:
    """The preprocessor as one scikit-learn ColumnTransformer (unfitted): the reference for the column-wise one."""
    numeric, other = split_columns(features)
    encoder = OneHotEncoder(handle_unknown="infrequent_if_exist", max_categories=encoding.KEPT_CATEGORIES,
                            sparse_output=False)
    return ColumnTransformer(
        [
            ("numeric", Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]), numeric),
            ("categorical", Pipeline([("impute", SimpleImputer(strategy="most_frequent")), ("encode", encoder)]),
             other),
        ],
        sparse_threshold=0.0,
        verbose_feature_names_out=False,
    )


def assert_as_column_transformer(table: pd.DataFrame, dataset: MTLDataset) -> None:
    """Every split's features and the feature names equal those of a ColumnTransformer fitted on the train rows."""
    assert isinstance(dataset.preprocessor, ColumnwisePreprocessor)
    features = table[list(dataset.feature_columns)]
    reference = column_transformer(features).fit(features.iloc[dataset.train.rows])
    assert list(dataset.encoded_features) == [str(name) for name in reference.get_feature_names_out()]
    assert list(dataset.preprocessor.get_feature_names_out()) == list(reference.get_feature_names_out())
    for split in (dataset.train, dataset.val, dataset.test):
        expected = torch.as_tensor(np.asarray(reference.transform(features.iloc[split.rows]), dtype=np.float32))
        assert torch.equal(split.features, expected)
    again = pickle.loads(pickle.dumps(dataset.preprocessor))
    np.testing.assert_array_equal(again.transform(features), reference.transform(features))
    predicted = encode_features(dataset, table)  # new rows, as at prediction
    assert torch.equal(predicted, torch.as_tensor(reference.transform(features), dtype=torch.float32))


def mixed_table(n: int = 400) -> pd.DataFrame:
    """Numbers of several dtypes and text beside booleans, with missing values in numeric and text columns."""
    table = toy_table(n, seed=3)
    rng = np.random.default_rng(4)
    table["x1"] = table["x1"].astype(np.float32)  # converted to float64 beside the float64 columns
    table["n"] = rng.integers(-5, 50, n)  # int64
    table["k2"] = pd.Series(rng.choice(["a", "b", "c", "d"], n), dtype="str")
    table["flag"] = rng.random(n) > 0.3  # a boolean beside text: converted to object with it
    table.loc[::5, "x0"] = np.nan
    table.loc[3::7, "x1"] = np.nan
    table.loc[::6, "k"] = np.nan
    table.loc[1::9, "k2"] = np.nan
    return table


def test_a_table_with_missing_numbers_and_text_is_encoded_as_by_a_column_transformer() -> None:
    table = mixed_table()
    dataset = build_dataset(table, (Y, C), DataConfig(), "toy.csv")
    assert isinstance(dataset.preprocessor, ColumnwisePreprocessor)
    assert [part for part, _ in dataset.preprocessor.parts_] == [("x0",), ("x1",), ("x2",), ("n",), ("k",), ("k2",),
                                                                  ("flag",)]  # fitted one column at a time
    assert_as_column_transformer(table, dataset)


def test_a_table_made_from_one_array_is_encoded_as_by_a_column_transformer() -> None:
    rng = np.random.default_rng(5)
    values = rng.normal(size=(700, 4)) * [1.0, 1e3, 1e-3, 7.0] + [0.0, 5e4, 1.0, -3.0]
    values[::9, 1] = np.nan
    table = pd.DataFrame(values, columns=["x0", "x1", "x2", "x3"], copy=False)  # a view of the row-major array
    table = table.assign(y=rng.normal(size=700) + 1e6, c=(values[:, 0] > 0).astype(int))  # as scikit-learn's frames
    dataset = build_dataset(table, (Y, C), DataConfig(), "toy.csv")
    assert isinstance(dataset.preprocessor, ColumnwisePreprocessor)
    assert [part for part, _ in dataset.preprocessor.parts_] == [("x0", "x1", "x2", "x3")]  # summed as by rows
    assert_as_column_transformer(table, dataset)


def test_capped_categories_and_an_unseen_one_are_encoded_as_by_a_column_transformer(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(encoding, "KEPT_CATEGORIES", 4)
    table = mixed_table()
    table["many"] = pd.Series([f"v{index % 11}" for index in range(len(table))], dtype="str")
    first = build_dataset(table, (Y, C), DataConfig(), "toy.csv")
    table.loc[first.test.rows[:5], "many"] = "never seen in training"  # the split follows the labels only
    table.loc[first.val.rows[:3], "k2"] = "unseen too"
    with pytest.warns(encoding.CategoriesCapped):
        dataset = build_dataset(table, (Y, C), DataConfig(), "toy.csv")
    assert np.array_equal(dataset.test.rows, first.test.rows)
    assert "many_infrequent_sklearn" in dataset.encoded_features
    assert_as_column_transformer(table, dataset)


def test_a_numeric_column_without_a_training_value_is_dropped_as_by_a_column_transformer() -> None:
    table = mixed_table()
    first = build_dataset(table, (Y, C), DataConfig(), "toy.csv")
    table.loc[first.train.rows, "x2"] = np.nan
    with pytest.warns(UserWarning, match="Skipping features without any observed values"):
        dataset = build_dataset(table, (Y, C), DataConfig(), "toy.csv")
    assert "x2" not in dataset.encoded_features
    assert_as_column_transformer(table, dataset)


@pytest.mark.parametrize("name", ["diabetes", "tips", "wine-red"])
def test_a_built_in_data_set_is_encoded_as_by_a_column_transformer(name: str, request: pytest.FixtureRequest) -> None:
    if name == "wine-red":
        request.getfixturevalue("wine_available")
    config = check(ExperimentConfig.from_dict({"data": {"dataset": name}}))
    loaded, _ = load_data(config.data)
    dataset = build_dataset(loaded.table, config.tasks, config.data, config.data.source)
    assert_as_column_transformer(loaded.table, dataset)
