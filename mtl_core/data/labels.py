"""Task labels from a table column: numbers for regression, class indices for classification.

A missing label is masked, never dropped: the row keeps its features and its other tasks' labels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mtl_core.errors import DataError
from mtl_core.limits import MAX_CLASSES
from mtl_core.tasks import TaskSpec


@dataclass(frozen=True, slots=True)
class Labels:
    """One task's labels over all rows of a table."""

    values: np.ndarray  # [N] float64: the target, or the class index; 0 where unlabelled
    mask: np.ndarray  # [N] bool: True where the row is labelled for this task
    classes: tuple[str, ...]  # class names in index order; empty for regression


def task_labels(table: pd.DataFrame, task: TaskSpec, source: str, *, routed_by: str | None = None,
                fit_rows: np.ndarray | None = None) -> Labels:
    """The labels of ``task`` in ``table``; DataError names the column, row and value when they don't fit.

    ``routed_by`` names the task-id column of a routed table: rows of other tasks are masked.
    Quantile bins take their edges from ``fit_rows`` (the training rows), never from held-out rows.
    """
    column = table[task.column]
    mask = column.notna().to_numpy()
    if routed_by is not None:
        wanted = str(task.task_id if task.task_id is not None else task.name)
        mask = mask & (table[routed_by].astype(str).to_numpy() == wanted)
    if task.equals is not None:
        hit = column.astype(str).to_numpy() == str(task.equals)
        if isinstance(task.equals, float):  # a number: compare numerically so 6 matches 6.0
            hit = pd.to_numeric(column, errors="coerce").to_numpy() == task.equals
        names = (f"{task.column} != {task.equals}", f"{task.column} == {task.equals}")
        return Labels(np.where(mask, hit, 0).astype(float), mask, names)
    if task.kind == "regression" or task.derived:
        numbers = _numeric(column, task, source)
        if task.kind == "regression":
            return Labels(np.where(mask, numbers, 0.0), mask, ())
        if task.threshold is not None:
            names = (f"{task.column} < {task.threshold:g}", f"{task.column} >= {task.threshold:g}")
            return Labels(np.where(mask, numbers >= task.threshold, 0).astype(float), mask, names)
        edges = _edges(numbers, mask, task, fit_rows)
        return Labels(np.where(mask, np.digitize(np.nan_to_num(numbers), edges), 0).astype(float), mask,
                      _bin_names(task.column, edges))
    return _categorical(column, mask, task, source)


def _edges(numbers: np.ndarray, mask: np.ndarray, task: TaskSpec, fit_rows: np.ndarray | None) -> tuple[float, ...]:
    """Given cut points, or the inner quantiles of the training rows for ``bins = K``."""
    if task.quantile_bins is None:
        assert isinstance(task.bins, tuple)
        return task.bins
    rows = fit_rows if fit_rows is not None else np.arange(len(numbers))
    values = numbers[rows][mask[rows]]
    edges: np.ndarray | list[float] = np.unique(np.quantile(values, np.linspace(0, 1, task.quantile_bins + 1)[1:-1])) if len(values) else []
    if len(edges) < 1:
        raise DataError(
            f"column {task.column!r} has too few distinct values for {task.quantile_bins} quantile classes "
            f"(task {task.name!r}); give fewer bins or explicit cut points"
        )
    return tuple(float(edge) for edge in edges)


def _numeric(column: pd.Series, task: TaskSpec, source: str) -> np.ndarray:
    numbers = pd.to_numeric(column, errors="coerce")
    bad = numbers.isna() & column.notna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        what = "a regression task" if task.kind == "regression" else "a threshold or bins"
        fix = 'Fix the value or choose kind = "multiclass"' if task.kind == "regression" else "Fix the value"
        raise DataError(
            f"column {task.column!r} (row {row + 1} of {source}) holds {column.iloc[row]!r}; {what} needs numbers "
            f"(task {task.name!r}). {fix}."
        )
    return numbers.to_numpy(dtype=float)


def _categorical(column: pd.Series, mask: np.ndarray, task: TaskSpec, source: str) -> Labels:
    present = column[mask]
    distinct = sorted(present.unique(), key=_sort_key)
    if task.kind == "binary" and len(distinct) != 2:
        shown = ", ".join(_plain(value) for value in distinct[:6])
        raise DataError(
            f"column {task.column!r} of {source} holds {len(distinct)} distinct values ({shown}); a binary task "
            f"(task {task.name!r}) needs exactly 2. Set threshold = ... to derive one, or kind = \"multiclass\"."
        )
    if len(distinct) < 2:
        raise DataError(f"column {task.column!r} of {source} holds a single class; task {task.name!r} has nothing to learn")
    if len(distinct) > MAX_CLASSES:
        raise DataError(
            f"column {task.column!r} of {source} holds {len(distinct)} distinct values; a multiclass task takes "
            f"at most {MAX_CLASSES}. Is it a regression target? Set kind = \"regression\"."
        )
    index = {value: position for position, value in enumerate(distinct)}
    values = np.array([index[value] if keep else 0 for value, keep in zip(column, mask, strict=True)], dtype=float)
    return Labels(values, mask, tuple(str(value) for value in distinct))


def _plain(value: object) -> str:
    """A value as it reads in the file: 3 for numbers (not np.int64(3)), 'red' for text."""
    if isinstance(value, np.generic):
        value = value.item()
    return repr(value) if isinstance(value, str) else str(value)


def _sort_key(value: object) -> tuple[int, float | str]:
    return (0, float(value)) if isinstance(value, (int, float, np.number)) and not isinstance(value, bool) else (1, str(value))


def _bin_names(column: str, bins: tuple[float, ...]) -> tuple[str, ...]:
    names = [f"{column} < {bins[0]:g}"]
    names += [f"{low:g} <= {column} < {high:g}" for low, high in zip(bins, bins[1:], strict=False)]
    return (*names, f"{column} >= {bins[-1]:g}")
