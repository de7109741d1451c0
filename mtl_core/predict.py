"""Predictions of a saved run for new rows or images, one column per task, in the units of the labels.

Regression tasks give the predicted value (standardised targets turned back into original units);
classification tasks give the predicted class name and one ``<task>_proba_<class>`` column per class.
The new rows go through the run's fitted preprocessor (``encode_features``) and the same evaluation
code as the test split, so the test rows get back exactly the predictions stored in results.json.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from mtl_core.atomic import shown_path
from mtl_core.data import Split, TaskInfo, encode_features, read_table
from mtl_core.data.images import read_image
from mtl_core.data.reader import check_size, decode, sniff_delimiter
from mtl_core.errors import DataError
from mtl_core.limits import MAX_IMAGES, describe
from mtl_core.runs import LoadedRun
from mtl_core.train.evaluation import split_outputs, to_natural

_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")


def predict(run: LoadedRun, features: Tensor) -> pd.DataFrame:
    """One row per input row: the prediction columns of every task, in task order."""
    if len(features) == 0:
        raise DataError("there are no rows to predict")
    rows = Split(features.contiguous(), {}, {}, np.arange(len(features)))  # memory layout picks the matmul kernel
    outputs = split_outputs(run.model, rows, torch.device("cpu"))
    columns: dict[str, np.ndarray] = {}
    for task in run.dataset.tasks:
        info = run.dataset.info[task.name]
        columns.update(task_columns(info, to_natural(outputs[task.name], info)))
    return pd.DataFrame(columns)


def task_columns(info: TaskInfo, natural: np.ndarray) -> dict[str, np.ndarray]:
    """A regression task's value, or a class name and per-class probabilities ([N] or [N, K] in).

    >>> info = TaskInfo("sick", "binary", "bce", 1, ("no", "yes"))
    >>> {name: values.tolist() for name, values in task_columns(info, np.array([0.25, 0.5])).items()}
    {'sick': ['no', 'yes'], 'sick_proba_no': [0.75, 0.5], 'sick_proba_yes': [0.25, 0.5]}
    """
    if info.kind == "regression":
        return {info.name: natural}
    if natural.ndim == 1:  # the positive class's probability; the same 0.5 rule as the stored predictions
        proba, index = np.stack([1.0 - natural, natural], axis=1), (natural >= 0.5).astype(int)
    else:
        proba, index = natural, natural.argmax(axis=1)
    names = np.asarray(info.classes, dtype=object)
    per_class = {f"{info.name}_proba_{name}": proba[:, k] for k, name in enumerate(info.classes)}
    return {info.name: names[index], **per_class}


def read_inputs(run: LoadedRun, data: str | Path, labels: str | Path | None = None) -> tuple[pd.DataFrame, Tensor]:
    """What identifies each new row (``row``, or the image file) and the model inputs for it.

    Table runs read a CSV/TSV/Parquet file with the training feature columns. Image runs read an
    image folder with a listing CSV (``labels``, default ``labels.csv``) naming the files in the
    column ``data.image_column``, or a ``.npy`` array [N, C, H, W] of values in [0, 1]. A DataError
    never quotes the files read: a quoted part of its message found in them is replaced by '…'.
    """
    path = Path(data)
    try:
        return _read_inputs(run, path, labels)
    except DataError as error:
        listing = Path(labels) if labels is not None else path / "labels.csv"
        raise DataError(unquoted(str(error), path, listing, path / str(listing))) from None


def unquoted(message: str, *sources: Path) -> str:
    """``message`` with each quoted part that occurs as a word in the first 64 KB of ``sources`` (or is long) made
    '…', so a system file given as data is never quoted; names from the run's config stay."""
    heads = [_head(source).decode("utf-8", "replace") for source in sources]
    def replace(found: re.Match[str]) -> str:
        inner = found.group(0)[1:-1]
        word = re.compile(rf"(?<!\w){re.escape(inner)}(?!\w)")
        hidden = len(inner) > 60 or (len(inner) > 2 and any(word.search(head) for head in heads))
        return f"{found.group(0)[0]}…{found.group(0)[0]}" if hidden else found.group(0)
    text = _QUOTED.sub(replace, message)
    return text if len(text) <= 400 else text[:399] + "…"


def _head(source: Path) -> bytes:
    try:
        with source.open("rb") as stream:
            return stream.read(1 << 16)
    except (OSError, ValueError):
        return b""


def _read_inputs(run: LoadedRun, path: Path, labels: str | Path | None) -> tuple[pd.DataFrame, Tensor]:
    if len(run.dataset.input_shape) != 3:
        table = read_table(path)
        return pd.DataFrame({"row": np.arange(len(table))}), encode_features(run.dataset, table=table)
    if path.is_file() and path.suffix.lower() == ".npy":
        images = read_array(path, run.dataset.input_shape)
        ids = pd.DataFrame({"row": np.arange(len(images))})
    elif path.is_dir():
        ids, images = read_image_folder(run, path, labels)
    else:
        raise DataError(f"{shown_path(path)}: this run was trained on images; give an image folder with a listing CSV "
                        f"(--labels, default labels.csv) or a .npy array of shape [N, C, H, W]")
    return ids, encode_features(run.dataset, images=np.asarray(images, dtype=np.float32))


def read_array(path: Path, shape: tuple[int, ...]) -> np.ndarray:
    """The images of a ``.npy`` file [N, *shape]; DataError (one line) for a corrupt, pickled or misshapen one."""
    try:
        images = np.load(path, mmap_mode="r", allow_pickle=False)  # the header first: the shape is checked unread
    except (OSError, ValueError, EOFError) as error:
        raise DataError(f"{shown_path(path.name)} is not a .npy array of numbers ({type(error).__name__}): it is "
                        f"corrupt, cut short or holds pickled objects. Save the images with numpy.save.") from None
    if not isinstance(images, np.ndarray) or images.dtype.kind not in "biuf" or images.ndim != 4 \
            or tuple(images.shape[1:]) != shape:
        found = tuple(images.shape) if isinstance(images, np.ndarray) else type(images).__name__
        raise DataError(f"{shown_path(path.name)} holds an array of shape {found}; this run takes numbers in "
                        f"an array of shape [N, {', '.join(map(str, shape))}]")
    if len(images) > MAX_IMAGES:
        raise DataError(f"{shown_path(path.name)} holds {len(images):,} images; at most {MAX_IMAGES:,} are allowed")
    return np.asarray(images)


def read_image_folder(run: LoadedRun, folder: Path, labels: str | Path | None) -> tuple[pd.DataFrame, np.ndarray]:
    """The listed file names and their images, read at the run's channels and size."""
    listing = Path(labels) if labels is not None else folder / "labels.csv"
    if not listing.is_absolute() and not listing.exists():
        listing = folder / listing
    column = run.config.data.image_column
    names = read_listing(listing, column)
    channels, size = run.dataset.input_shape[0], run.dataset.input_shape[-1]
    images = np.stack([read_image(folder / name, size, channels, f"row {row + 1} of {listing.name}")
                       for row, name in enumerate(names)]) if names else np.zeros((0, channels, size, size))
    return pd.DataFrame({column: names}), images


def read_listing(listing: Path, column: str) -> list[str]:
    """The file names in ``column`` of a listing CSV; unlike a labels table it may hold that column alone."""
    if not listing.is_file():
        raise DataError(f"the image listing {shown_path(listing)} does not exist; give it with --labels")
    check_size(listing.stat().st_size, shown_path(listing.name))
    text = decode(listing.read_bytes(), listing.name)
    try:  # one row past the limit is enough to refuse the listing: the rest is never parsed
        table = pd.read_csv(io.StringIO(text), sep=sniff_delimiter(text), dtype=str, index_col=False,
                            nrows=MAX_IMAGES + 1)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as error:
        raise DataError(f"{shown_path(listing.name)} cannot be read as a table ({type(error).__name__})") from None
    table.columns = [str(name).strip() for name in table.columns]
    if column not in table.columns:
        raise DataError(f"data.image_column = {shown_path(column)}: {shown_path(listing.name)} has no such column "
                        f"(it has {len(table.columns)}); the listing names each image file in that column")
    if len(table) > MAX_IMAGES:
        raise DataError(f"{shown_path(listing.name)} names more than {MAX_IMAGES} images; {describe('MAX_IMAGES')}")
    return [name.strip() for name in table[column].fillna("").astype(str)]
