"""The table preprocessor, fitted one column at a time.

scikit-learn's ``ColumnTransformer`` fits each group of columns on one matrix of the training rows, and its fit also
transforms that matrix and stacks the output; the median imputer sorts a masked copy of its matrix. For 0.7 M
training rows × 8 numeric columns (45 MB) that fit peaks near 190 MB above the table, past twice the table's size.
Every step here is the same scikit-learn estimator (``SimpleImputer``, ``StandardScaler``, ``OneHotEncoder``), fitted
on one column's training rows at a time, read from the table by row position: fitting holds one column's copies
(about 30 MB at a million rows), and nothing is transformed until asked.

It is equivalent, bit for bit, to the ``ColumnTransformer`` with the two groups ``Pipeline(SimpleImputer(median),
StandardScaler())`` for the numeric columns and ``Pipeline(SimpleImputer(most_frequent), OneHotEncoder(...))`` for
the others (dense output, feature names without the group's prefix): same columns in the same order, same names,
same values. Each of those steps keeps its statistics per column (median, mean and variance, most frequent value,
categories capped per column), and two details make the rest match:

- the scaler sums each column of a column-major matrix (what a DataFrame read from a file gives) as one contiguous
  run, as it does a single column: numpy's pairwise sum either way. A row-major matrix (from a table made of one
  2-D array, such as scikit-learn's own data sets) is summed along the rows in another order, so such numeric
  columns are fitted together, as one part, like the group;
- a group of several columns is converted to one dtype (float64 for float32 beside float64, object for text beside
  booleans), so each column of such a group is converted to that dtype before its steps see it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.utils.validation import FLOAT_DTYPES, check_array, check_is_fitted


class ColumnwisePreprocessor(TransformerMixin, BaseEstimator):
    """Median-impute and standardise ``numeric`` columns; impute the most frequent value into ``other`` columns and
    one-hot encode them, each keeping ``max_categories - 1`` categories beside one "infrequent" column.

    ``parts_`` holds the fitted ``Pipeline`` of each input column, numeric columns first, in input order; a column
    without any value in the fitted rows is dropped by its imputer, as in a group. Numeric columns whose matrix would
    be row-major (a table made from one 2-D array) are fitted as one part: their scaler sums each column along the
    rows in another order, which a column alone cannot reproduce.
    """

    def __init__(self, numeric: Sequence[str] = (), other: Sequence[str] = (), max_categories: int = 2) -> None:
        self.numeric = numeric
        self.other = other
        self.max_categories = max_categories

    def fit(self, X: pd.DataFrame, y: object = None, rows: np.ndarray | None = None) -> ColumnwisePreprocessor:
        """Fit each column's steps on the rows at positions ``rows`` of ``X`` (all rows by default).

        Taking the positions rather than a DataFrame of the training rows lets each column be copied alone.
        """
        used = set(self.numeric) | set(self.other)
        self.feature_names_in_ = np.asarray([name for name in X.columns if name in used], dtype=object)
        self.n_features_in_ = len(self.feature_names_in_)
        picked = np.arange(len(X)) if rows is None else np.asarray(rows)
        self.parts_: list[tuple[tuple[str, ...], Pipeline]] = []
        for names, numeric in ((tuple(self.numeric), True), (tuple(self.other), False)):
            dtype = group_dtype(X, names, numeric)
            parts = [names] if numeric and row_major(X, names, picked) else [(name,) for name in names]
            self.parts_ += [(part, self._fit_part(columns(X, part, picked, dtype), numeric)) for part in parts]
        return self

    def _fit_part(self, part: pd.DataFrame, numeric: bool) -> Pipeline:
        imputer = SimpleImputer(strategy="median" if numeric else "most_frequent")
        imputed = imputer.fit_transform(part)
        if imputed.shape[1] == 0:  # no value to impute from: the imputer drops the column
            return Pipeline([("impute", imputer)])
        last: tuple[str, Any] = ("scale", StandardScaler()) if numeric else ("encode", OneHotEncoder(
            handle_unknown="infrequent_if_exist", max_categories=self.max_categories, sparse_output=False))
        last[1].fit(imputed)
        return Pipeline([("impute", imputer), last])

    def transform(self, X: pd.DataFrame, rows: np.ndarray | None = None) -> np.ndarray:
        """The encoded columns of the rows at positions ``rows`` of ``X`` (all rows by default) side by side, numeric
        first, read one part at a time."""
        check_is_fitted(self)
        dtypes = {False: group_dtype(X, tuple(self.other), False), True: group_dtype(X, tuple(self.numeric), True)}
        numeric = set(self.numeric)
        return np.hstack([steps.transform(columns(X, part, rows, dtypes[part[0] in numeric]))
                          for part, steps in self.parts_])

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        """Numeric columns keep their names; each kept category is ``column_category``, the rest
        ``column_infrequent_sklearn``."""
        check_is_fitted(self)
        names = [str(out) for part, steps in self.parts_ for out in steps.get_feature_names_out(list(part))]
        return np.asarray(names, dtype=object)


def group_dtype(X: pd.DataFrame, names: tuple[str, ...], numeric: bool) -> np.dtype | None:
    """The dtype scikit-learn converts these columns to when they are validated together, or None for one column
    (which is validated alone either way)."""
    if len(names) < 2:
        return None
    positions = [X.columns.get_loc(name) for name in names]
    sample = check_array(X.iloc[:1, positions], dtype=FLOAT_DTYPES if numeric else None, ensure_all_finite=False,
                         ensure_min_samples=0)  # the dtype follows from the columns' dtypes, not their values
    return np.dtype(sample.dtype)


def row_major(X: pd.DataFrame, names: tuple[str, ...], rows: np.ndarray) -> bool:
    """Whether scikit-learn would see these columns at these rows as a row-major matrix (as it does for a table made
    from one 2-D array); two rows, taken the same way, show the layout."""
    if len(names) < 2 or len(rows) < 2:
        return False
    positions = [X.columns.get_loc(name) for name in names]
    sample = check_array(X.iloc[rows[:2], positions], dtype=FLOAT_DTYPES, ensure_all_finite=False, copy=True)
    return bool(sample.flags.c_contiguous and not sample.flags.f_contiguous)


def columns(X: pd.DataFrame, names: tuple[str, ...], rows: np.ndarray | None, dtype: np.dtype | None) -> pd.DataFrame:
    """Columns ``names`` of ``X`` (at positions ``rows`` if given) as a DataFrame; one column alone is converted to
    ``dtype``, the dtype of its group."""
    if len(names) > 1:
        positions = [X.columns.get_loc(name) for name in names]
        return X.iloc[:, positions] if rows is None else X.iloc[rows, positions]
    column = X.iloc[:, X.columns.get_loc(names[0])]
    part = (column if rows is None else column.iloc[rows]).to_frame()  # a Series' rows are taken faster
    return part if dtype is None or part.dtypes.iloc[0] == dtype else part.astype(dtype)
