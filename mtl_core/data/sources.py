"""Built-in data sets (a registry) and the loader that turns a DataConfig into a table.

``available()`` lists the data sets, ``create(name, **hparams)`` loads one, ``describe()`` gives what a
menu or a form needs. A data set's hyper-parameters are the keyword-only arguments of its ``load``
function, annotated with their pydantic limits (``data.params.<key>`` in a config).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel
from sklearn.datasets import load_diabetes

from mtl_core import limits
from mtl_core.bounds import check_limits
from mtl_core.config import DataConfig
from mtl_core.data.images import load_image_folder
from mtl_core.data.reader import read_table
from mtl_core.data.uci import wine_file
from mtl_core.errors import ConfigError, DataError
from mtl_core.registry import Registry
from mtl_core.settings import hparam_model, validate
from mtl_core.tasks import TaskSpec


@dataclass(frozen=True)
class LoadedData:
    """A loaded data set: its table and, for image data, the images row by row."""

    table: pd.DataFrame
    images: np.ndarray | None = None  # [N, C, H, W] float32 in [0, 1], aligned with the table's rows


@dataclass(frozen=True)
class Size:
    """A product of settings bounded by a limit: ``Size("MAX_CELLS", ("n_rows", "n_features"))``.

    A factor named twice is squared (images × side²). The first factor is the one lowered to fit.
    """

    limit: str
    factors: tuple[str, ...]

    def of(self, values: Mapping[str, Any]) -> int:
        """The product for these (validated) settings."""
        return int(np.prod([int(values[name]) for name in self.factors], dtype=object))

    def words(self, values: Mapping[str, Any]) -> str:
        """``n_rows × n_features = 100,000 × 1,000 = 100,000,000``."""
        return (f"{' × '.join(self.factors)} = {' × '.join(f'{int(values[name]):,}' for name in self.factors)} "
                f"= {self.of(values):,}")


@dataclass(frozen=True)
class DatasetSource:
    """A built-in data set: how to load it, and the tasks it offers by default.

    ``load`` takes the hyper-parameters as keyword-only arguments and returns a table or LoadedData;
    the same hyper-parameters always give the same data. ``label_columns`` are never used as
    features by default (they are labels in disguise, e.g. a digit's parity).
    """

    name: str
    description: str
    load: Callable[..., pd.DataFrame | LoadedData]
    default_tasks: tuple[TaskSpec, ...]
    citation: str = ""
    label_columns: tuple[str, ...] = ()
    task_id_column: str | None = None
    sizes: tuple[Size, ...] = ()  # generated data: what its settings make, checked before anything is generated

    @property
    def params(self) -> type[BaseModel]:
        """The pydantic model of ``load``'s hyper-parameters (defaults, limits, JSON schema for a form)."""
        return hparam_model(self.load)

    def data(self, params: Mapping[str, Any]) -> LoadedData:
        """The data for these hyper-parameters; a bad one is a ConfigError naming ``data.params.<key>``."""
        check_limits(self.params, params, "data.params")
        values = validate(self.load, params, "data.params", f"data set {self.name!r}")
        self.check_size(values)
        loaded = self.load(**values)
        return loaded if isinstance(loaded, LoadedData) else LoadedData(loaded)

    def check_size(self, values: Mapping[str, Any]) -> None:
        """ConfigError when validated settings would generate more than a limit allows (nothing is generated)."""
        for size in self.sizes:
            if size.of(values) > limits.LIMITS[size.limit].value:
                raise ConfigError(f"data.params: {size.words(values)}, past the limit of "
                                  f"{limits.describe(size.limit)}; lower {' or '.join(dict.fromkeys(size.factors))}")

    def fit_size(self, given: Mapping[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        """``given`` (valid settings) with each size's first factor lowered to fit its limit, and (key, note) pairs.

        When even its least value does not fit, the size's settings go back to their defaults.
        """
        fitted, notes = dict(given), []
        for size in self.sizes:
            values = {**self.params().model_dump(), **fitted}
            if size.of(values) <= limits.LIMITS[size.limit].value:
                continue
            first, rest = size.factors[0], Size(size.limit, size.factors[1:]).of(values)
            low = self.params.model_fields[first].metadata
            least = next((int(rule.ge) for rule in low if hasattr(rule, "ge")), 1)
            most = limits.LIMITS[size.limit].value // max(rest, 1)
            used = f"using {first} = {most}" if most >= least else "using the defaults"
            notes.append((f"data.params.{first}", f"data.params: {size.words(values)}, past the limit of "
                                                  f"{limits.describe(size.limit)}; {used}"))
            if most >= least:
                fitted[first] = most
            else:
                fitted = {key: value for key, value in fitted.items() if key not in size.factors}
        return fitted, notes

    def table(self, params: Mapping[str, Any]) -> pd.DataFrame:
        """The table alone (see ``data``)."""
        return self.data(params).table


DATASETS = Registry[DatasetSource]("data set", settings_of=lambda source: source.load)


def register(source: DatasetSource) -> DatasetSource:
    """Add a built-in data set to the registry."""
    return DATASETS.register(source.name)(source)


def available() -> list[str]:
    """Built-in data set names, sorted."""
    return DATASETS.available()


def create(name: str, **hparams: Any) -> LoadedData:
    """The built-in data set ``name`` loaded with these hyper-parameters (errors name ``data.params.<key>``).

    >>> create("mmoe-synthetic", n_rows=20, n_features=3).table.shape
    (20, 5)
    """
    return DATASETS.get(name, key="data.dataset").data(hparams)


def describe(name: str | None = None) -> list[dict[str, Any]]:
    """For menus and forms: name, one-line summary, citation, default tasks and the hyper-parameters' JSON schema."""
    items = []
    for item in [name] if name is not None else available():
        source = DATASETS.get(item, key="data.dataset")
        items.append({
            "name": item, "summary": source.description, "citation": source.citation,
            "default_tasks": [task.model_dump(mode="json") for task in source.default_tasks],
            "label_columns": list(source.label_columns), "task_id_column": source.task_id_column,
            "hparams": DATASETS.schema(item),
        })
    return items


def wine_table(colour: str) -> pd.DataFrame:
    """One colour's UCI Wine Quality table, checked to be the original file."""
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
    TaskSpec(name="quality", column="quality", kind="regression", loss="mse", standardize=True),
    TaskSpec(name="good", column="quality", kind="binary", threshold=6, loss="bce"),
)
WINE_CITATION = "Cortez et al., 2009, Decision Support Systems 47(4):547-553 (UCI Wine Quality, CC BY 4.0)"

register(DatasetSource(
    name="diabetes",
    description="442 diabetes patients (scikit-learn, no download): 10 baseline measurements; "
    "disease progression after one year, and whether it is high (>= 140.5, the median).",
    load=_diabetes_table,
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
    load=lambda: wine_table("red"),
    default_tasks=WINE_TASKS,
    citation=WINE_CITATION,
))
register(DatasetSource(
    name="wine-white",
    description="4,898 white Vinho Verde wines (UCI, downloaded once and cached): 11 physico-chemical "
    "measurements; quality 3-9 as a score and as good = quality >= 6.",
    load=lambda: wine_table("white"),
    default_tasks=WINE_TASKS,
    citation=WINE_CITATION,
))


def load_data(data: DataConfig) -> tuple[LoadedData, DatasetSource | None]:
    """The data a DataConfig names (table and any images), with its built-in source (None for a file)."""
    if data.path is not None:
        if data.params:
            raise ConfigError("data.params: parameters apply to built-in data sets, not to a file (data.path)")
        if Path(data.path).is_dir():
            table, images = load_image_folder(data.path, data.labels, data.image_column, data.image_size, data.channels)
            return LoadedData(table, images), None
        return LoadedData(read_table(data.path)), None
    source = DATASETS.get(data.source, key="data.dataset")
    return source.data(data.params), source


def load_table(data: DataConfig) -> tuple[pd.DataFrame, DatasetSource | None]:
    """The raw table a DataConfig names, with its built-in source (None for a file)."""
    loaded, source = load_data(data)
    return loaded.table, source


def default_tasks(data: DataConfig) -> tuple[TaskSpec, ...]:
    """The tasks a built-in data set offers by default; a file has none, so tasks must be given."""
    if data.path is not None:
        raise ConfigError(f"tasks: a file ({data.path}) has no default tasks; add [[tasks]] entries naming its columns")
    return DATASETS.get(data.source, key="data.dataset").default_tasks
