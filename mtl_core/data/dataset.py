"""MTLDataset: tensors for train/val/test with label masks and a preprocessor fitted on train rows only."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
import pandas as pd
import torch
from sklearn.model_selection import train_test_split
from torch import Tensor

from mtl_core.config import DataConfig
from mtl_core.data.encoding import check_encoding, make_preprocessor
from mtl_core.data.images import ImageNormalizer
from mtl_core.data.labels import Labels, task_labels
from mtl_core.data.memory import release_freed
from mtl_core.data.preprocess import ColumnwisePreprocessor
from mtl_core.errors import DataError
from mtl_core.limits import MAX_ABS_VALUE, MAX_COLUMNS, MIN_ROWS
from mtl_core.tasks import TaskSpec


Preprocessor: TypeAlias = ColumnwisePreprocessor | ImageNormalizer
ENCODED_ROWS = 32_768  # rows encoded at once when a split's tensors are built (8 float64 columns: 2 MB)


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
    preprocessor: Preprocessor  # fitted on the train rows only
    notes: tuple[str, ...] = ()  # warnings about the data, e.g. text columns whose rare categories were merged

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of one input row: (F,) for tables, (C, H, W) for images."""
        return tuple(int(size) for size in self.train.features.shape[1:])

    @property
    def in_features(self) -> int:
        """Number of input values per row (C·H·W for images)."""
        return int(np.prod(self.input_shape))


def build_dataset(table: pd.DataFrame, tasks: tuple[TaskSpec, ...], data: DataConfig, source: str,
                  images: np.ndarray | None = None, label_columns: tuple[str, ...] = ()) -> MTLDataset:
    """Split ``table`` by ``data.split_seed``, fit the preprocessor on train rows, and build tensors.

    With ``images`` ([N, C, H, W], one per table row) the images are the model's input and the
    table holds only labels; otherwise the table's feature columns are.
    """
    if len(table) < MIN_ROWS:
        raise DataError(f"{source} has {len(table)} row(s); at least {MIN_ROWS} are needed to split into "
                        f"training, validation and test rows")
    check_columns(table, tasks, data, source)
    features = () if images is not None else feature_columns(table, tasks, data, label_columns)
    check_features(table, features, source)
    notes = check_encoding(table[list(features)], len(table), source) if features else ()
    routed = data.task_id_column
    labels = {task.name: task_labels(table, task, source, routed_by=routed) for task in tasks if not task.quantile_bins}
    train_rows, val_rows, test_rows = split_rows(len(table), tasks, labels, data)
    release_freed(8 * len(table))  # the split's working copies of the row positions
    for task in tasks:
        if task.quantile_bins:  # quantile edges come from the training rows only
            labels[task.name] = task_labels(table, task, source, routed_by=routed, fit_rows=train_rows)
    labels = {task.name: labels[task.name] for task in tasks}
    check_labels(tasks, labels, train_rows, {"validation": val_rows, "test": test_rows}, source)
    info = {task.name: task_info(task, labels[task.name], train_rows) for task in tasks}
    splits = (train_rows, val_rows, test_rows)
    # the targets first: the labels (a float64 copy of each task's column) are freed before the features are encoded
    targets = [{name: target_tensor(labels[name].values[rows], info[name]) for name in labels} for rows in splits]
    masks = [{name: torch.as_tensor(labels[name].mask[rows]) for name in labels} for rows in splits]
    del labels
    release_freed(9 * len(table) * len(tasks))
    preprocessor: Preprocessor
    if images is not None:
        preprocessor = ImageNormalizer().fit(images[train_rows])  # statistics of training images only
    else:  # each column's training rows are read from the table alone: no copy of the whole training matrix
        positions = [table.columns.get_loc(name) for name in features]
        preprocessor = columnwise = make_preprocessor(table.iloc[:0, positions]).fit(table, rows=train_rows)
        release_freed(8 * len(train_rows))  # a column's training rows, copied while it was fitted
    width = len(preprocessor.get_feature_names_out())

    def encoded(rows: np.ndarray) -> Tensor:
        if images is not None:
            return torch.as_tensor(np.asarray(preprocessor.transform(images[rows]), dtype=np.float32))
        # a piece of rows at a time, read column by column, straight into float32: no float64 copy of the split
        values = np.empty((len(rows), width), dtype=np.float32)
        for start in range(0, len(rows), ENCODED_ROWS):
            piece = rows[start:start + ENCODED_ROWS]
            values[start:start + len(piece)] = columnwise.transform(table, rows=piece)
        return torch.as_tensor(values)

    train, val, test = (Split(features=encoded(rows), targets=targets[index], masks=masks[index], rows=rows)
                        for index, rows in enumerate(splits))
    return MTLDataset(
        source=source, tasks=tasks, info=info, feature_columns=features,
        encoded_features=tuple(str(name) for name in preprocessor.get_feature_names_out()),
        train=train, val=val, test=test, preprocessor=preprocessor,
        notes=notes,
    )


def encode_features(dataset: MTLDataset, table: pd.DataFrame | None = None,
                    images: np.ndarray | None = None) -> Tensor:
    """Model inputs for new rows (or images) with the dataset's fitted preprocessor, as in training."""
    if images is not None:
        if not isinstance(dataset.preprocessor, ImageNormalizer):
            raise DataError(f"{dataset.source} was trained on table columns, not on images")
        return torch.as_tensor(dataset.preprocessor.transform(images))
    if table is None or isinstance(dataset.preprocessor, ImageNormalizer):
        raise DataError(f"{dataset.source} needs {'images' if table is not None else 'a table'} to predict from")
    missing = [name for name in dataset.feature_columns if name not in table.columns]
    if missing:
        raise DataError(f"the new rows lack the feature column(s) {', '.join(map(repr, missing))} used in training")
    encoded = dataset.preprocessor.transform(table[list(dataset.feature_columns)])
    return torch.as_tensor(np.asarray(encoded, dtype=np.float32))


def check_columns(table: pd.DataFrame, tasks: tuple[TaskSpec, ...], data: DataConfig, source: str) -> None:
    """Every task column (and the task-id column) exists; DataError names the key and lists the columns."""
    columns = [str(column) for column in table.columns]
    if data.task_id_column is not None and data.task_id_column not in columns:
        raise DataError(
            f"data.task_id_column = {data.task_id_column!r}: {source} has no such column. Columns: {', '.join(columns)}"
        )
    for index, task in enumerate(tasks):
        if task.column not in columns:
            close = difflib.get_close_matches(task.column, columns, n=1, cutoff=0.6)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise DataError(
                f"tasks.{index}.column = {task.column!r}: {source} has no such column.{hint} "
                f"Columns: {', '.join(columns)}"
            )


def feature_columns(table: pd.DataFrame, tasks: tuple[TaskSpec, ...], data: DataConfig,
                    label_columns: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The input columns: ``data.features`` if given, else every column that no task (or routing) uses."""
    targets = {task.column for task in tasks} | ({data.task_id_column} if data.task_id_column else set())
    if data.features is None:
        targets |= set(label_columns)
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


def check_features(table: pd.DataFrame, features: tuple[str, ...], source: str) -> None:
    """No feature column is entirely missing, infinite or so large that standardising it overflows."""
    if len(features) > MAX_COLUMNS:
        raise DataError(f"{source} has {len(features)} feature columns; at most {MAX_COLUMNS} are allowed")
    for name in features:
        column = table[name]
        if column.isna().all():
            raise DataError(f"feature column {name!r} of {source} is entirely missing; drop it or choose data.features")
        if not pd.api.types.is_numeric_dtype(column) or column.dtype == bool:
            continue
        values = column.to_numpy(dtype=float)
        bad = ~np.isnan(values) & ~(np.abs(values) <= MAX_ABS_VALUE)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise DataError(
                f"feature column {name!r} (row {row + 1} of {source}) holds {values[row]!r}; values must be finite "
                f"and within ±{MAX_ABS_VALUE:g} to be standardised. Fix or rescale the column, or leave it out."
            )


def check_labels(tasks: tuple[TaskSpec, ...], labels: dict[str, Labels], train_rows: np.ndarray,
                 held_out: dict[str, np.ndarray], source: str) -> None:
    """Each task has labelled training rows; classification tasks see two classes and no class that only a
    held-out split (validation, test) holds."""
    for task in tasks:
        own = labels[task.name]
        train = own.values[train_rows][own.mask[train_rows]]
        if len(train) == 0:
            raise DataError(f"task {task.name!r} has no labelled row in the training split of {source}; "
                            f"give it labelled rows or remove the task")
        if not task.is_classification:
            continue
        seen = set(np.unique(train).astype(int))
        if len(seen) < 2:
            only = own.classes[next(iter(seen))]
            raise DataError(f"task {task.name!r} has a single class ({only!r}) in the training split of {source}; "
                            f"there is nothing to learn. Choose another threshold or column.")
        for split, rows in held_out.items():
            check_no_unseen_class(task.name, own, rows, seen, f"the {split} split of {source}")


def check_no_unseen_class(task: str, labels: Labels, rows: np.ndarray, seen: set[int], where: str) -> None:
    """Refuses a class that the rows hold but training never saw: it could not be predicted."""
    held = labels.values[rows][labels.mask[rows]]
    unseen = sorted(set(np.unique(held).astype(int)) - seen)
    if unseen:
        names = ", ".join(repr(labels.classes[index]) for index in unseen)
        raise DataError(f"task {task!r}: class {names} appears in {where} but never in "
                        f"training, so it cannot be predicted. Merge rare classes (bins) or use more rows.")


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
        for task in tasks if task.is_classification and task.name in labels  # quantile tasks come after the split
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
    try:
        kept, held = train_test_split(rows, test_size=fraction, random_state=seed)
    except ValueError:  # scikit-learn: the sizes leave one part empty (few rows, large shares)
        raise DataError(f"{len(rows)} rows cannot be split with a share of {fraction:.3g} held out: one part would "
                        f"be empty; use more rows or smaller data.test_size / data.val_size") from None
    return np.asarray(kept), np.asarray(held)


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
        standardised = values - info.target_mean
        standardised /= info.target_scale  # in place: one float64 copy of the rows at a time, not two
        return torch.as_tensor(standardised, dtype=torch.float32)
    if info.loss == "bce":
        return torch.as_tensor(values, dtype=torch.float32)
    return torch.as_tensor(values, dtype=torch.int64)
