"""What a table's columns look like, and the task kind each would suggest (for previews and uploads)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, TypeAlias

import numpy as np
import pandas as pd
from pydantic import ValidationError

from mtl_core.config import describe_validation_error
from mtl_core.errors import DataError
from mtl_core.tasks import Kind, LossName, TaskSpec

Role: TypeAlias = Literal["feature", "task", "ignored"]
FEW_VALUES = 20  # whole-number columns with at most this many distinct values may read as classes
ROWS_PER_CLASS = 5  # ... and only with this many rows per class on average: each split needs each class


def infer_kind(column: pd.Series) -> Kind:
    """The kind of task a column suggests, from its values (missing cells left out).

    Two values (or booleans) → binary; text → multiclass; numbers with a fractional part → regression;
    whole numbers → multiclass when they are few labels (at most ``FEW_VALUES`` distinct values, with
    ``ROWS_PER_CLASS`` rows per value on average), else regression: a measurement such as a weight
    in kilograms, stored as whole numbers, is not a set of classes.

    >>> infer_kind(pd.Series([1.5, 2.25, 3.0] * 10 + list(range(30))))
    'regression'
    >>> infer_kind(pd.Series(["red", "white", "red"]))
    'binary'
    >>> infer_kind(pd.Series([3, 5, 4, 6, 5] * 20)), infer_kind(pd.Series([191.0, 189, 193, 162, 189, 182]))
    ('multiclass', 'regression')
    """
    values = column.dropna()
    distinct = values.nunique()
    if distinct == 0:
        return "regression"  # all missing: nothing to go on
    if pd.api.types.is_bool_dtype(values) or distinct <= 2:
        return "binary"
    if not pd.api.types.is_numeric_dtype(values):
        return "multiclass"
    if not _whole(values):
        return "regression"
    few = distinct <= FEW_VALUES and len(values) >= ROWS_PER_CLASS * distinct
    return "multiclass" if few else "regression"


def _whole(values: pd.Series) -> bool:
    """Whether every value is a whole number (an integer column, or floats such as 36.0)."""
    if pd.api.types.is_integer_dtype(values):
        return True
    numbers = values.to_numpy(dtype=float)
    return bool(np.isfinite(numbers).all() and (numbers == np.round(numbers)).all())


def summarize(table: pd.DataFrame) -> pd.DataFrame:
    """One row per column: its type, missing cells, distinct values, an example and the suggested kind."""
    rows = []
    for name in table.columns:
        column = table[name]
        present = column.dropna()
        rows.append({
            "column": str(name),
            "dtype": str(column.dtype),
            "missing": int(column.isna().sum()),
            "distinct": int(present.nunique()),
            "example": str(present.iloc[0]) if len(present) else "",
            "suggested_kind": infer_kind(column) if len(present) else "",
        })
    return pd.DataFrame(rows)


def tasks_from_roles(table: pd.DataFrame, roles: Mapping[str, Role], kinds: Mapping[str, Kind] | None = None,
                     losses: Mapping[str, LossName] | None = None) -> tuple[tuple[TaskSpec, ...], tuple[str, ...]]:
    """Tasks (one per column with role ``task``; kind as given or inferred, loss as given or the kind's
    default) and the feature columns."""
    unknown = sorted(set(roles) - {str(column) for column in table.columns})
    if unknown:
        raise DataError(f"column roles name {unknown[0]!r}, which is not a column of the table")
    kinds, losses = kinds or {}, losses or {}
    try:
        tasks = tuple(
            TaskSpec(name=name, column=name, kind=kinds.get(name) or infer_kind(table[name]), loss=losses.get(name))
            for name, role in roles.items() if role == "task"
        )
    except ValidationError as error:
        raise DataError(describe_validation_error(error)) from None
    if not tasks:
        raise DataError("no column has the role 'task'; choose at least one column to predict")
    features = tuple(name for name, role in roles.items() if role == "feature")
    if not features:
        raise DataError("no column has the role 'feature'; choose at least one input column")
    return tasks, features
