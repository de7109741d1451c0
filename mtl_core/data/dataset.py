"""MTLDataset: tensors for train/val/test with label masks and a preprocessor fitted on train rows only."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from torch import Tensor

from mtl_core.config import DataConfig
from mtl_core.data.labels import Labels, task_labels
from mtl_core.errors import DataError
from mtl_core.tasks import TaskSpec


@dataclass(frozen=True, slots=True)
class TaskInfo:
    """What the model and the metrics need to know about one task after reading the data."""

    name: str
    kind: str
    loss: str
    output_dim: int  # 1 for regression and bce, the number of classes for cross-entropy
    classes: tuple[str, ...]  # class names in index order; empty for regression
    target_mean: float = 0.0  # regression with standardize: the loss sees (y - mean) / scale
    target_scale: float = 1.0


@dataclass(frozen=True, slots=True)
class Split:
    """One split's tensors; ``masks[t]`` is False where a row has no label for task t."""

    features: Tensor  # [N, F] float32, preprocessed
    targets: dict[str, Tensor]  # [N] float32 (regression, bce) or int64 (cross-entropy)
    masks: dict[str, Tensor]  # [N] bool
    rows: np.ndarray  # [N] positions of these rows in the source table

    def __len__(self) -> int:
        return len(self.rows)


@dataclass(frozen=True, slots=True)
class MTLDataset:
    """The data one run trains and evaluates on, fully prepared."""

    source: str
    tasks: tuple[TaskSpec, ...]
    info: dict[str, TaskInfo]
    feature_columns: tuple[str, ...]  # input columns of the table
    encoded_features: tuple[str, ...]  # columns after one-hot encoding
    train: Split
    val: Split
    test: Split
    preprocessor: ColumnTransformer  # fitted on the train rows only

    @property
    def in_features(self) -> int:
        """Width of the model's input."""
        return int(self.train.features.shape[1])


def build_dataset(table: pd.DataFrame, tasks: tuple[TaskSpec, ...], data: DataConfig, source: str) -> MTLDataset:
    """Split ``table`` by ``data.split_seed``, fit the preprocessor on train rows, and build tensors."""
    check_columns(table, tasks, source)
    features = feature_columns(table, tasks, data)
    labels = {task.name: task_labels(table, task, source) for task in tasks}
    train_rows, val_rows, test_rows = split_rows(len(table), tasks, labels, data)
    preprocessor = make_preprocessor(table[list(features)]).fit(table.iloc[train_rows][list(features)])
    info = {task.name: task_info(task, labels[task.name], train_rows) for task in tasks}

    width = len(preprocessor.get_feature_names_out())

    def tensors(rows: np.ndarray) -> Split:
        encoded = preprocessor.transform(table.iloc[rows][list(features)]) if len(rows) else np.zeros((0, width))
        return Split(
            features=torch.as_tensor(np.asarray(encoded, dtype=np.float32)),
            targets={name: target_tensor(labels[name].values[rows], info[name]) for name in labels},
            masks={name: torch.as_tensor(labels[name].mask[rows]) for name in labels},
            rows=rows,
        )

    return MTLDataset(
        source=source, tasks=tasks, info=info, feature_columns=features,
        encoded_features=tuple(str(name) for name in preprocessor.get_feature_names_out()),
        train=tensors(train_rows), val=tensors(val_rows), test=tensors(test_rows), preprocessor=preprocessor,
    )


def check_columns(table: pd.DataFrame, tasks: tuple[TaskSpec, ...], source: str) -> None:
    """Every task column exists; DataError names the task's key and lists the columns otherwise."""
    columns = [str(column) for column in table.columns]
    for index, task in enumerate(tasks):
        if task.column not in columns:
            close = difflib.get_close_matches(task.column, columns, n=1, cutoff=0.6)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise DataError(
                f"tasks.{index}.column = {task.column!r}: {source} has no such column.{hint} "
                f"Columns: {', '.join(columns)}"
            )


def feature_columns(table: pd.DataFrame, tasks: tuple[TaskSpec, ...], data: DataConfig) -> tuple[str, ...]:
    """The input columns: ``data.features`` if given, else every column that no task uses."""
    targets = {task.column for task in tasks}
    if data.features is not None:
        missing = [name for name in data.features if name not in table.columns]
        if missing:
            raise DataError(f"data.features names {missing[0]!r}, which is not a column. Columns: {', '.join(table.columns)}")
        leaking = sorted(targets & set(data.features))
        if leaking:
            raise DataError(f"data.features includes {leaking[0]!r}, a task's target column: that would leak the label")
        chosen = tuple(data.features)
    else:
        chosen = tuple(str(column) for column in table.columns if column not in targets)
    if not chosen:
        raise DataError("no feature columns are left once the task columns are taken out; add input columns")
    return chosen


def split_rows(
    n_rows: int, tasks: tuple[TaskSpec, ...], labels: dict[str, Labels], data: DataConfig
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Train, val and test row positions; stratified on the classification labels where counts allow."""
    rows = np.arange(n_rows)
    keys = stratify_keys(tasks, labels) if data.stratify else []
    rest, test = _split(rows, data.test_size, data.split_seed, keys, rows)
    if data.val_size == 0.0:
        train, val = rest, rest[:0]
    else:
        train, val = _split(rest, data.val_size / (1.0 - data.test_size), data.split_seed, keys, rest)
    minimum = min(len(train), len(test))
    if minimum < 2:
        raise DataError(f"{n_rows} rows give a split with {minimum} row(s); use more rows or other sizes")
    return np.sort(train), np.sort(val), np.sort(test)


def stratify_keys(tasks: tuple[TaskSpec, ...], labels: dict[str, Labels]) -> list[np.ndarray]:
    """Candidate stratification keys, best first: all classification labels jointly, then each alone."""
    per_task = [
        np.where(labels[task.name].mask, labels[task.name].values.astype(int).astype(str), "missing")
        for task in tasks if task.is_classification
    ]
    if len(per_task) > 1:
        joint = np.array(["|".join(parts) for parts in zip(*per_task, strict=True)])
        return [joint, *per_task]
    return per_task


def _split(
    rows: np.ndarray, fraction: float, seed: int, keys: list[np.ndarray], positions: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    for key in keys:
        try:
            kept, held = train_test_split(rows, test_size=fraction, random_state=seed, stratify=key[positions])
            return np.asarray(kept), np.asarray(held)
        except ValueError:
            continue  # a class too small to appear in both parts: try a coarser key
    kept, held = train_test_split(rows, test_size=fraction, random_state=seed)
    return np.asarray(kept), np.asarray(held)


def make_preprocessor(features: pd.DataFrame) -> ColumnTransformer:
    """Median-impute and standardise numbers; impute and one-hot encode the rest (unfitted)."""
    numeric = [c for c in features.columns if pd.api.types.is_numeric_dtype(features[c]) and features[c].dtype != bool]
    other = [c for c in features.columns if c not in numeric]
    return ColumnTransformer(
        [
            ("numeric", Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]), numeric),
            ("categorical", Pipeline([
                ("impute", SimpleImputer(strategy="most_frequent")),
                ("encode", OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
            ]), other),
        ],
        sparse_threshold=0.0,
        verbose_feature_names_out=False,
    )


def task_info(task: TaskSpec, labels: Labels, train_rows: np.ndarray) -> TaskInfo:
    """Output width, class names and (for standardised regression) the train rows' mean and scale."""
    if task.kind == "regression":
        train_values = labels.values[train_rows][labels.mask[train_rows]]
        if task.standardize and len(train_values) > 1:
            mean, scale = float(train_values.mean()), float(train_values.std())
            return TaskInfo(task.name, task.kind, str(task.loss), 1, (), mean, scale if scale > 0 else 1.0)
        return TaskInfo(task.name, task.kind, str(task.loss), 1, ())
    width = 1 if task.loss == "bce" else len(labels.classes)
    return TaskInfo(task.name, task.kind, str(task.loss), width, labels.classes)


def target_tensor(values: np.ndarray, info: TaskInfo) -> Tensor:
    """The tensor the loss compares with: standardised floats, 0/1 floats for bce, or class indices."""
    if info.kind == "regression":
        return torch.as_tensor((values - info.target_mean) / info.target_scale, dtype=torch.float32)
    if info.loss == "bce":
        return torch.as_tensor(values, dtype=torch.float32)
    return torch.as_tensor(values, dtype=torch.int64)
