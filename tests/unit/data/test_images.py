"""Image folders: files read with Pillow, resized, scaled per channel with statistics of training images."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from mtl_core.config import ExperimentConfig
from mtl_core.data import encode_features
from mtl_core.data.images import ImageNormalizer
from mtl_core.errors import DataError
from mtl_core.experiment import prepare, run_to_results


def write_folder(folder: Path, n: int = 30, mode: str = "L") -> pd.DataFrame:
    rng = np.random.default_rng(1)
    brightness = rng.random(n)
    for index in range(n):
        shape = (12, 10) if mode == "L" else (12, 10, 3)
        pixels = np.clip(brightness[index] + 0.1 * rng.standard_normal(shape), 0, 1)
        Image.fromarray((pixels * 255).astype(np.uint8), mode=None).convert(mode).save(folder / f"{index}.png")
    labels = pd.DataFrame({"file": [f"{i}.png" for i in range(n)], "brightness": brightness,
                           "bright": (brightness > 0.5).astype(int)})
    labels.to_csv(folder / "labels.csv", index=False)
    return labels


def config_for(folder: Path, channels: int = 1) -> ExperimentConfig:
    return ExperimentConfig.from_dict({
        "data": {"path": str(folder), "image_size": 8, "channels": channels},
        "tasks": [{"name": "brightness", "column": "brightness"}, {"name": "bright", "column": "bright",
                                                                    "kind": "binary"}],
        "model": {"hidden": [16]}, "train": {"epochs": 3},
    })


@pytest.mark.parametrize("channels", [1, 3])
def test_folder_images_are_resized_to_one_shape(tmp_path: Path, channels: int) -> None:
    write_folder(tmp_path, mode="RGB" if channels == 3 else "L")
    _, dataset = prepare(config_for(tmp_path, channels))
    assert dataset.input_shape == (channels, 8, 8)
    assert dataset.feature_columns == ()


def test_image_scaling_uses_training_images_only(tmp_path: Path) -> None:
    write_folder(tmp_path)
    _, dataset = prepare(config_for(tmp_path))
    normalizer = dataset.preprocessor
    assert isinstance(normalizer, ImageNormalizer)
    from mtl_core.data.images import read_image
    labels = pd.read_csv(tmp_path / "labels.csv")
    train = np.stack([read_image(tmp_path / labels["file"][row], 8, 1, "") for row in dataset.train.rows])
    everything = np.stack([read_image(tmp_path / name, 8, 1, "") for name in labels["file"]])
    assert np.allclose(normalizer.mean_.ravel(), train.mean())
    assert not np.allclose(normalizer.mean_.ravel(), everything.mean())


def test_an_image_folder_trains_and_encodes_new_images(tmp_path: Path) -> None:
    write_folder(tmp_path)
    results = run_to_results(config_for(tmp_path))
    assert results["status"] == "completed"
    _, dataset = prepare(config_for(tmp_path))
    fresh = np.full((2, 1, 8, 8), 0.5, dtype=np.float32)
    encoded = encode_features(dataset, images=fresh)
    assert encoded.shape == (2, 1, 8, 8) and torch.isfinite(encoded).all()
    with pytest.raises(DataError, match="images"):
        encode_features(dataset, table=pd.DataFrame({"a": [1]}))


def test_normalizer_standardises_each_channel() -> None:
    images = np.random.default_rng(0).random((20, 3, 4, 4)).astype(np.float32) * [[[2.0]], [[5.0]], [[1.0]]]
    scaled = ImageNormalizer().fit(images).transform(images)
    assert np.allclose(scaled.mean(axis=(0, 2, 3)), 0, atol=1e-5)
    assert np.allclose(scaled.std(axis=(0, 2, 3)), 1, atol=1e-4)
