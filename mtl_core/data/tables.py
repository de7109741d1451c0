"""More built-in tables: both wine colours stacked, the tips table, and scikit-learn's digits."""

from __future__ import annotations

from typing import Annotated

import numpy as np
import pandas as pd
from pydantic import Field
from sklearn.datasets import load_digits

from mtl_core.data.sources import WINE_CITATION, DatasetSource, LoadedData, register, wine_table
from mtl_core.errors import DataError
from mtl_core.tasks import TaskSpec


def _wine_both() -> pd.DataFrame:
    red, white = wine_table("red"), wine_table("white")
    return pd.concat([red.assign(colour="red"), white.assign(colour="white")], ignore_index=True)


def _tips() -> pd.DataFrame:
    try:
        import plotly.data
    except ImportError:  # pragma: no cover - plotly is a requirement
        raise DataError("the tips table ships with plotly; pip install plotly") from None
    return plotly.data.tips()


def _digits(*, images: Annotated[bool, Field(description="1×8×8 images (for a CNN trunk) instead of 64 pixel "
                                                         "columns")] = False) -> LoadedData:
    bunch = load_digits()
    pixels = bunch.data.astype(np.float32)  # [N, 64], values 0..16
    digit = bunch.target.astype(int)
    labels = pd.DataFrame({"digit": digit, "parity": np.where(digit % 2 == 0, "even", "odd")})
    if images:
        return LoadedData(labels, (pixels / 16.0).reshape(-1, 1, 8, 8))
    columns = pd.DataFrame(pixels, columns=[f"pixel_{row}_{col}" for row in range(8) for col in range(8)])
    return LoadedData(pd.concat([columns, labels], axis=1))


register(DatasetSource(
    name="wine",
    description="6,497 wines, red and white stacked (UCI, downloaded once and cached): quality as a score, "
    "good = quality >= 6, and the colour itself as a third task.",
    load=_wine_both,
    default_tasks=(
        TaskSpec(name="quality", column="quality", kind="regression", standardize=True),
        TaskSpec(name="good", column="quality", kind="binary", threshold=6),
        TaskSpec(name="colour", column="colour", kind="binary"),
    ),
    citation=WINE_CITATION,
))
register(DatasetSource(
    name="tips",
    description="244 restaurant bills (plotly's bundled tips table): the tip as a score, and whether it was "
    "dinner, a smoker's table, a male payer; the day is one-hot encoded.",
    load=_tips,
    default_tasks=(
        TaskSpec(name="tip", column="tip", kind="regression", standardize=True),
        TaskSpec(name="time", column="time", kind="binary"),
        TaskSpec(name="smoker", column="smoker", kind="binary"),
        TaskSpec(name="sex", column="sex", kind="binary"),
    ),
    citation="Bryant & Smith, 1995, Practical Data Analysis (the tips table, as shipped by plotly)",
))
register(DatasetSource(
    name="digits",
    description="1,797 handwritten digits, 8×8 pixels (scikit-learn): which digit (10 classes), "
    "its parity, and whether it is >= 5, all from one image. params.images = true serves 1×8×8 images.",
    load=_digits,
    default_tasks=(
        TaskSpec(name="digit", column="digit", kind="multiclass"),
        TaskSpec(name="parity", column="parity", kind="binary"),
        TaskSpec(name="ge5", column="digit", kind="binary", threshold=5),
    ),
    citation="Alpaydin & Kaynak, 1998, UCI Optical Recognition of Handwritten Digits (scikit-learn's copy)",
    label_columns=("digit", "parity"),
))
