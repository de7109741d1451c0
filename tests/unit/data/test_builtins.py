"""Every built-in data set loads offline, is a pure function of its parameters, and trains."""

from __future__ import annotations

import numpy as np
import pytest

from mtl_core.config import DataConfig, ExperimentConfig
from mtl_core.data import DATASETS, load_data
from mtl_core.data.synthetic import cells_data, mmoe_table
from mtl_core.errors import ConfigError
from mtl_core.experiment import run_to_results

EXPECTED = {"diabetes", "wine-red", "wine-white", "wine", "tips", "digits", "mmoe-synthetic", "cells-synthetic",
            "routed-synthetic"}
WINE = {"wine-red", "wine-white", "wine"}


def test_the_nine_built_in_data_sets_are_registered() -> None:
    assert set(DATASETS.names()) == EXPECTED


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_built_in_trains_three_epochs_with_its_default_tasks(name: str, request: pytest.FixtureRequest) -> None:
    if name in WINE:
        request.getfixturevalue("wine_available")
    params = {"n_images": 200, "size": 16} if name == "cells-synthetic" else {}
    config = ExperimentConfig.from_dict({"data": {"dataset": name, "params": params}, "train": {"epochs": 3}})
    results = run_to_results(config)
    assert results["status"] == "completed"
    assert set(results["metrics"]["test"]) == {task.name for task in DATASETS.get(name).default_tasks}
    assert all(value is None or np.isfinite(value)
               for task in results["metrics"]["test"].values() for value in task.values())


@pytest.mark.parametrize("name", ["mmoe-synthetic", "routed-synthetic", "cells-synthetic"])
def test_generated_data_is_a_pure_function_of_its_parameters(name: str) -> None:
    params = {"seed": 3, **({"n_images": 40, "size": 16} if name == "cells-synthetic" else {})}
    first, _ = load_data(DataConfig(dataset=name, params=params))
    second, _ = load_data(DataConfig(dataset=name, params=params))
    other, _ = load_data(DataConfig(dataset=name, params={**params, "seed": 4}))
    assert first.table.equals(second.table) and not first.table.equals(other.table)
    if first.images is not None:
        assert np.array_equal(first.images, second.images)


@pytest.mark.parametrize(("correlation", "low", "high"), [(0.0, -0.05, 0.05), (0.5, 0.3, 0.5), (0.9, 0.75, 0.9),
                                                          (1.0, 0.98, 1.0)])
def test_mmoe_label_correlation_follows_the_setting(correlation: float, low: float, high: float) -> None:
    table = mmoe_table(correlation=correlation, n_rows=10_000)
    pearson = np.corrcoef(table["y1"], table["y2"])[0, 1]
    assert low <= pearson <= high


def test_mmoe_task_weights_have_the_cosine_asked_for() -> None:
    table = mmoe_table(correlation=0.5, n_rows=20_000, n_sines=0, noise=0.0)
    x = table.filter(like="x").to_numpy()
    w1, *_ = np.linalg.lstsq(x, table["y1"].to_numpy(), rcond=None)
    w2, *_ = np.linalg.lstsq(x, table["y2"].to_numpy(), rcond=None)
    assert abs(w1 @ w2 / np.linalg.norm(w1) / np.linalg.norm(w2) - 0.5) < 1e-6


def test_cells_time_target_counts_from_onset_when_infected() -> None:
    loaded = cells_data(n_images=100, size=16, infection_onset_hour=10)
    table = loaded.table
    infected = table["infected"] == 1
    assert np.allclose(table.loc[infected, "time"], table.loc[infected, "hours_since_start"] - 10)
    assert np.allclose(table.loc[~infected, "time"], table.loc[~infected, "hours_since_start"])
    assert loaded.images is not None and loaded.images.shape == (100, 1, 16, 16)


def test_digits_as_images_keeps_labels_out_of_the_features() -> None:
    as_table, _ = load_data(DataConfig(dataset="digits"))
    as_images, _ = load_data(DataConfig(dataset="digits", params={"images": True}))
    assert as_table.table.shape == (1797, 66) and as_images.images is not None
    assert as_images.images.shape == (1797, 1, 8, 8) and list(as_images.table.columns) == ["digit", "parity"]


def test_unknown_or_out_of_range_parameters_name_their_key() -> None:
    with pytest.raises(ConfigError, match="data.params.colour"):
        load_data(DataConfig(dataset="mmoe-synthetic", params={"colour": 1}))
    with pytest.raises(ConfigError, match="data.params.correlation"):
        load_data(DataConfig(dataset="mmoe-synthetic", params={"correlation": 1.5}))
