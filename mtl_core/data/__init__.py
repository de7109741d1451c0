"""The data stage: sources (built-in, file, UCI download) → table → MTLDataset.

``available()`` lists the built-in data sets, ``create(name, **hparams)`` loads one, ``describe()`` gives
what a menu or a form needs.
"""

from mtl_core.data import synthetic as _synthetic  # noqa: F401  (registers the generated data sets)
from mtl_core.data import tables as _tables  # noqa: F401  (registers wine, tips, digits)
from mtl_core.data.dataset import MTLDataset, Split, TaskInfo, build_dataset, encode_features
from mtl_core.data.reader import read_table
from mtl_core.data.sources import (
    DATASETS, DatasetSource, LoadedData, available, create, default_tasks, describe, load_data, load_table,
)

__all__ = [
    "DATASETS", "DatasetSource", "MTLDataset", "Split", "TaskInfo",
    "LoadedData", "available", "build_dataset", "create", "default_tasks", "describe", "encode_features",
    "load_data", "load_table", "read_table",
]
