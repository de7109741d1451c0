"""Image data: a folder of image files with a labels CSV (seed 003's layout), and per-channel scaling.

Images are read with Pillow (no torchvision), converted to grayscale or RGB, resized to one size,
and scaled to [0, 1]; the per-channel mean and standard deviation are fitted on training rows only.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image, UnidentifiedImageError

from mtl_core.data.reader import read_table
from mtl_core.errors import DataError
from mtl_core.limits import MAX_IMAGE_SIDE, MAX_IMAGES


class ImageNormalizer:
    """Standardise each channel with the mean and standard deviation of the images it was fitted on."""

    def fit(self, images: np.ndarray) -> ImageNormalizer:  # [N, C, H, W]
        """Learn per-channel statistics (call with the training images only)."""
        self.mean_ = images.mean(axis=(0, 2, 3), keepdims=True)[0]  # [C, 1, 1]
        scale = images.std(axis=(0, 2, 3), keepdims=True)[0]
        self.scale_ = np.where(scale > 0, scale, 1.0)
        return self

    def transform(self, images: np.ndarray) -> np.ndarray:
        """(x − mean) / scale per channel, float32."""
        return ((images - self.mean_) / self.scale_).astype(np.float32)

    def get_feature_names_out(self) -> np.ndarray:
        """One name per channel, for display."""
        return np.array([f"channel_{index}" for index in range(len(self.mean_))])


def load_image_folder(folder: str | Path, labels: str | Path | None, image_column: str, size: int,
                      channels: int) -> tuple[pd.DataFrame, np.ndarray]:
    """The labels table and the images it names ([N, C, size, size] float32 in [0, 1])."""
    root = Path(folder)
    if not root.is_dir():
        raise DataError(f"image folder {str(root)!r} does not exist")
    labels_path = Path(labels) if labels is not None else root / "labels.csv"
    if not labels_path.is_absolute() and not labels_path.exists():
        labels_path = root / labels_path
    table = read_table(labels_path)
    if image_column not in table.columns:
        raise DataError(f"data.image_column = {image_column!r}: {labels_path.name} has no such column. "
                        f"Columns: {', '.join(map(str, table.columns))}")
    if len(table) > MAX_IMAGES:
        raise DataError(f"{labels_path.name} names {len(table)} images; at most {MAX_IMAGES} are allowed")
    if not 1 <= size <= MAX_IMAGE_SIDE:
        raise DataError(f"data.image_size = {size}: give a side between 1 and {MAX_IMAGE_SIDE} pixels")
    images = np.stack([
        read_image(root / str(name), size, channels, f"row {row + 1} of {labels_path.name}")
        for row, name in enumerate(table[image_column])
    ])
    return table.drop(columns=[image_column]), images


def read_image(path: Path, size: int, channels: int, where: str) -> np.ndarray:
    """One image as [C, size, size] float32 in [0, 1]; DataError names the file and the row."""
    if not path.is_file():
        raise DataError(f"{where} names {path.name!r}, which is not in {path.parent}")
    try:
        with Image.open(path) as image:
            converted = image.convert("L" if channels == 1 else "RGB").resize((size, size), Image.Resampling.BILINEAR)
            pixels = np.asarray(converted, dtype=np.float32) / 255.0
    except (UnidentifiedImageError, OSError) as error:
        raise DataError(f"{path.name} ({where}) is not an image Pillow can read: {error}") from None
    return pixels[None] if channels == 1 else pixels.transpose(2, 0, 1)
