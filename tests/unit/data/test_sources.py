"""Built-in data sets: diabetes offline, red wine from the data folder; defaults and unknown names."""

from __future__ import annotations

from pathlib import Path

import pytest

from mtl_core.config import DataConfig
from mtl_core.data import DATASETS, default_tasks, load_data, load_table
from mtl_core.errors import ConfigError, DataError, UnknownNameError


def test_diabetes_loads_offline_with_its_progression_target() -> None:
    table, source = load_table(DataConfig(dataset="diabetes"))
    assert table.shape == (442, 11) and "progression" in table.columns
    assert source is not None and source.name == "diabetes"


def test_diabetes_is_the_default_data_set() -> None:
    assert DataConfig().source == "diabetes"
    table, _ = load_table(DataConfig())
    assert len(table) == 442


def test_red_wine_loads_from_the_data_folder(wine_available: Path) -> None:
    table, source = load_table(DataConfig(dataset="wine-red"))
    assert table.shape == (1599, 12) and table["quality"].between(3, 8).all()
    assert source is not None and "Cortez" in source.citation


@pytest.mark.parametrize(("name", "tasks"), [
    ("diabetes", [("progression", "regression"), ("high_progression", "binary")]),
    ("wine-red", [("quality", "regression"), ("good", "binary")]),
    ("wine-white", [("quality", "regression"), ("good", "binary")]),
])
def test_a_built_in_data_set_offers_default_tasks(name: str, tasks: list[tuple[str, str]]) -> None:
    assert [(task.name, task.kind) for task in default_tasks(DataConfig(dataset=name))] == tasks


def test_the_wine_good_task_is_quality_at_least_six() -> None:
    good = default_tasks(DataConfig(dataset="wine-red"))[1]
    assert good.threshold == 6 and good.column == "quality"


def test_the_documented_data_sets_are_registered() -> None:
    assert {"diabetes", "wine-red", "wine-white"} <= set(DATASETS.names())


def test_an_unknown_data_set_name_suggests_the_one_meant() -> None:
    with pytest.raises(UnknownNameError) as caught:
        load_table(DataConfig(dataset="wine-rde"))
    message = str(caught.value)
    assert message.startswith("data.dataset = 'wine-rde': no data set named 'wine-rde'")
    assert "Did you mean 'wine-red'" in message and "diabetes" in message


def test_a_file_has_no_default_tasks(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"tasks: a file .* has no default tasks"):
        default_tasks(DataConfig(path=str(tmp_path / "t.csv")))


def test_data_set_parameters_do_not_apply_to_a_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="data.params"):
        load_data(DataConfig(path=str(tmp_path / "t.csv"), params={"seed": 1}))


def test_a_parameter_a_data_set_does_not_take_is_named() -> None:
    with pytest.raises(ConfigError, match=r"data\.params\.colour: data set 'diabetes' has no such hyper-parameter\. It takes: none"):
        load_data(DataConfig(dataset="diabetes", params={"colour": "red"}))


def test_a_file_in_the_data_folder_that_is_not_the_uci_file_is_refused(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "winequality-red.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    monkeypatch.setenv("MTL_DATA_DIR", str(tmp_path))
    with pytest.raises(DataError, match="does not look like the UCI Wine Quality file"):
        load_table(DataConfig(dataset="wine-red"))


def test_a_csv_path_loads_without_a_source(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("a;b\n1;2\n3;4\n", encoding="utf-8")
    table, source = load_table(DataConfig(path=str(path)))
    assert source is None and table.to_dict("list") == {"a": [1, 3], "b": [2, 4]}
