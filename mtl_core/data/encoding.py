"""The preprocessor of table features: numbers imputed and standardised, text imputed and one-hot encoded, within
the limits.

One-hot encoding writes one dense column per category, so a text column of unique values (ids, free text) writes
one column per row: a 420 KB CSV becomes 3.4 GB. Each input column therefore keeps its ``MAX_CATEGORIES - 1`` most
frequent categories and folds the rest into one "infrequent" column (scikit-learn's
``OneHotEncoder(max_categories=...)``), and the encoded table's rows × columns is checked against ``MAX_CELLS``
before anything is encoded.
"""

from __future__ import annotations

import warnings

import pandas as pd

from mtl_core.data.preprocess import ColumnwisePreprocessor
from mtl_core.errors import DataError
from mtl_core.limits import MAX_CATEGORIES, MAX_CELLS, describe
from mtl_core.safe_text import shorten

KEPT_CATEGORIES = max(MAX_CATEGORIES, 2)  # scikit-learn needs room for one kept category beside "infrequent"


class CategoriesCapped(UserWarning):
    """Some text columns had more categories than are one-hot encoded; the rarest were merged."""


def split_columns(features: pd.DataFrame) -> tuple[list[str], list[str]]:
    """The numeric feature columns (standardised) and the others (one-hot encoded)."""
    numeric = [c for c in features.columns if pd.api.types.is_numeric_dtype(features[c]) and features[c].dtype != bool]
    return numeric, [c for c in features.columns if c not in numeric]


def category_counts(features: pd.DataFrame) -> dict[str, int]:
    """The number of distinct values of each column that would be one-hot encoded."""
    return {str(name): int(features[name].nunique(dropna=True)) for name in split_columns(features)[1]}


def capped_note(counts: dict[str, int]) -> str | None:
    """The warning naming each column whose categories are capped, or None when none is."""
    capped = {name: count for name, count in counts.items() if count > KEPT_CATEGORIES}
    if not capped:
        return None
    shown = ", ".join(f"{shorten(name, 60)!r} ({count:,} categories)" for name, count in list(capped.items())[:5])
    more = f" and {len(capped) - 5} more" if len(capped) > 5 else ""
    return (f"column(s) {shown}{more}: the {KEPT_CATEGORIES - 1} most frequent categories of each are one-hot "
            f"encoded and the rest become one 'other' column; {describe('MAX_CATEGORIES')}. "
            f"Leave out id or free-text columns with data.features.")


def check_encoding(features: pd.DataFrame, rows: int, source: str) -> tuple[str, ...]:
    """Refuses features whose dense encoding passes MAX_CELLS; returns the capped-categories warning (also warned)."""
    counts = category_counts(features)
    numeric = len(features.columns) - len(counts)
    width = numeric + sum(min(count, KEPT_CATEGORIES) for count in counts.values())
    if rows * width > MAX_CELLS:
        raise DataError(f"{source}: {rows:,} rows × {width:,} encoded feature columns = {rows * width:,} cells once "
                        f"text is one-hot encoded; {describe('MAX_CELLS')}. Use fewer rows or leave out "
                        f"text columns with data.features.")
    note = capped_note(counts)
    if note is None:
        return ()
    warnings.warn(note, CategoriesCapped, stacklevel=3)
    return (note,)


def make_preprocessor(features: pd.DataFrame) -> ColumnwisePreprocessor:
    """Median-impute and standardise numbers; impute and one-hot encode the rest, rare categories as one (unfitted).

    Only the columns' dtypes are read, so an empty slice of the table will do.
    """
    numeric, other = split_columns(features)
    return ColumnwisePreprocessor(numeric=tuple(numeric), other=tuple(other), max_categories=KEPT_CATEGORIES)
