"""Built-in data sets (a registry) and the loader that turns a DataConfig into a table."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sklearn.datasets import load_diabetes

from mtl_core.config import DataConfig
from mtl_core.data.reader import read_table
from mtl_core.data.uci import wine_file
from mtl_core.errors import ConfigError, DataError
from mtl_core.registry import Registry
from mtl_core.tasks import TaskSpec


@dataclass(frozen=True)
class DatasetSource:
    """A built-in data set: how to load its table, and the tasks it offers by default."""

    name: str
    description: str
    load: Callable[[Mapping[str, Any]], pd.DataFrame]
    default_tasks: tuple[TaskSpec, ...]
    citation: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)  # hyper-parameters and their defaults

    def table(self, params: Mapping[str, Any]) -> pd.DataFrame:
        """The table for these hyper-parameters; unknown keys are a ConfigError naming ``data.params``."""
        unknown = sorted(set(params) - set(self.params))
        if unknown:
            known = ", ".join(self.params) or "none"
            raise ConfigError(f"data.params.{unknown[0]}: {self.name} has no such parameter (it takes: {known})")
        return self.load({**self.params, **params})


DATASETS = Registry[DatasetSource]("data set")


def register(source: DatasetSource) -> DatasetSource:
    """Add a built-in data set to the registry."""
    return DATASETS.register(source.name)(source)


def _wine_table(colour: str) -> pd.DataFrame:
    path = wine_file(colour)
    table = pd.read_csv(path, sep=";")
    if table.shape[1] != 12 or "quality" not in table.columns:
        raise DataError(
            f"{path} does not look like the UCI Wine Quality file: expected 12 ';'-separated columns "
            f"ending in 'quality', found {table.shape[1]} ({', '.join(map(str, table.columns[:3]))}, ...)"
        )
    return table


def _diabetes_table() -> pd.DataFrame:
    bunch = load_diabetes(as_frame=True, scaled=False)
    return bunch.frame.rename(columns={"target": "progression"})


WINE_TASKS = (
    TaskSpec(name="quality", column="quality", kind="regression", loss="mse"),
    TaskSpec(name="good", column="quality", kind="binary", threshold=6, loss="bce"),
)
WINE_CITATION = "Cortez et al., 2009, Decision Support Systems 47(4):547-553 (UCI Wine Quality, CC BY 4.0)"

register(DatasetSource(
    name="diabetes",
    description="442 diabetes patients (scikit-learn, no download): 10 baseline measurements; "
    "disease progression after one year, and whether it is high (>= 140.5, the median).",
    load=lambda params: _diabetes_table(),
    default_tasks=(
        TaskSpec(name="progression", column="progression", kind="regression", standardize=True),
        TaskSpec(name="high_progression", column="progression", kind="binary", threshold=140.5),
    ),
    citation="Efron et al., 2004, Annals of Statistics 32(2) (scikit-learn's load_diabetes)",
))
register(DatasetSource(
    name="wine-red",
    description="1,599 red Vinho Verde wines (UCI, downloaded once and cached): 11 physico-chemical "
    "measurements; quality 3-8 as a score and as good = quality >= 6.",
    load=lambda params: _wine_table("red"),
    default_tasks=WINE_TASKS,
    citation=WINE_CITATION,
))
register(DatasetSource(
    name="wine-white",
    description="4,898 white Vinho Verde wines (UCI, downloaded once and cached): 11 physico-chemical "
    "measurements; quality 3-9 as a score and as good = quality >= 6.",
    load=lambda params: _wine_table("white"),
    default_tasks=WINE_TASKS,
    citation=WINE_CITATION,
))


def load_table(data: DataConfig) -> tuple[pd.DataFrame, DatasetSource | None]:
    """The raw table a DataConfig names, with its built-in source (None for a file)."""
    if data.path is not None:
        if data.params:
            raise ConfigError("data.params: parameters apply to built-in data sets, not to a file (data.path)")
        return read_table(data.path), None
    source = DATASETS.get(data.source, key="data.dataset")
    return source.table(data.params), source


def default_tasks(data: DataConfig) -> tuple[TaskSpec, ...]:
    """The tasks a built-in data set offers by default; a file has none, so tasks must be given."""
    if data.path is not None:
        raise ConfigError(f"tasks: a file ({data.path}) has no default tasks; add [[tasks]] entries naming its columns")
    return DATASETS.get(data.source, key="data.dataset").default_tasks
