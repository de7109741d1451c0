"""Run folders (``run --run-dir``) and ``predict``: files, checkpoint, train.log, predictions equal to the run's."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from mtl_core.cli import main
from mtl_core.config import load_config
from mtl_core.data import DATASETS, load_table
from mtl_core.experiment import prepare
from mtl_core.train.trainer import build_run_model
from tests.fixtures.builders import toy_table

DIABETES = """
[data]
dataset = "diabetes"
[model]
hidden = [8]
[train]
epochs = 6
lr = 0.05
device = "cpu"
select = "high_progression.auc"
scheduler = "cosine"
"""
CELLS_PARAMS = {"n_images": 40, "size": 16}
CELLS = {"data": {"dataset": "cells-synthetic", "params": CELLS_PARAMS},
         "model": {"trunk": "cnn", "channels": [4], "blocks": 1},
         "strategy": {"name": "static", "weights": [1.0, 1.0]},
         "train": {"epochs": 2, "batch_size": 16, "lr": 0.01, "device": "cpu", "select": "infected.auc"}}
FOLDER_TASKS = [{"name": "infected", "column": "infected", "kind": "binary"},
                {"name": "time", "column": "time", "kind": "regression", "loss": "smooth_l1", "standardize": True}]


@dataclass(frozen=True)
class Run:
    folder: Path
    results: dict[str, Any]


def run_cli(config: Path, folder: Path, *extra: str) -> Run:
    assert main(["run", str(config), "--run-dir", str(folder), "--quiet", *extra]) == 0
    return Run(folder, json.loads((folder / "results.json").read_text(encoding="utf-8")))


def predict_cli(run: Run, data: Path, *extra: str) -> pd.DataFrame:
    out = data.parent / f"{data.stem}-predictions.csv"
    assert main(["predict", str(run.folder), str(data), "--out", str(out), *extra]) == 0
    return pd.read_csv(out, dtype={"infected": str})


def assert_matches_stored(predicted: pd.DataFrame, stored: dict[str, dict[str, Any]]) -> None:
    """Each task's predictions (values, class names, probabilities) equal the results' test predictions."""
    for task, entry in stored.items():
        if "classes" not in entry:
            np.testing.assert_allclose(predicted[task], entry["pred"], rtol=0, atol=1e-6)
            continue
        assert predicted[task].astype(str).tolist() == [entry["classes"][index] for index in entry["pred"]]
        positive = f"{task}_proba_{entry['classes'][1]}"
        np.testing.assert_allclose(predicted[positive], entry["proba"], rtol=0, atol=1e-6)


def cell_images() -> np.ndarray:
    """The generated images of the cells run, [N, 1, H, W] in [0, 1]."""
    images = DATASETS.get("cells-synthetic").data(CELLS_PARAMS).images
    assert images is not None
    return images


@pytest.fixture(scope="module")
def diabetes_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    folder = tmp_path_factory.mktemp("diabetes")
    config = folder / "diabetes.toml"
    config.write_text(DIABETES, encoding="utf-8")
    return run_cli(config, folder / "run", "--out", str(folder / "results-out.json"))


@pytest.fixture(scope="module")
def cells_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    folder = tmp_path_factory.mktemp("cells")
    config = folder / "cells.json"
    config.write_text(json.dumps(CELLS), encoding="utf-8")
    return run_cli(config, folder / "run")


# --- the folder -----------------------------------------------------------------------------------------------------


def test_a_run_folder_holds_config_checkpoint_results_and_log(diabetes_run: Run) -> None:
    for name in ("config.toml", "run.json", "train.log", "results.json", "checkpoints/best.pt"):
        assert (diabetes_run.folder / name).is_file(), name
    assert load_config(diabetes_run.folder / "config.toml").to_dict() == diabetes_run.results["config"]


def test_results_json_is_what_out_writes(diabetes_run: Run) -> None:
    out = diabetes_run.folder.parent / "results-out.json"
    assert (diabetes_run.folder / "results.json").read_text(encoding="utf-8") == out.read_text(encoding="utf-8")
    assert diabetes_run.results["best_epoch"] is not None and diabetes_run.results["best_value"] is not None


def test_best_pt_reloads_with_weights_only_into_a_fresh_model(diabetes_run: Run) -> None:
    state = torch.load(diabetes_run.folder / "checkpoints" / "best.pt", weights_only=True)
    config, dataset = prepare(load_config(diabetes_run.folder / "config.toml"))
    model = build_run_model(config, dataset)
    model.load_state_dict(state)  # strict: every key, every shape
    assert all(torch.equal(value, state[name]) for name, value in model.state_dict().items())


def test_train_log_has_seed_003s_lines(diabetes_run: Run) -> None:
    lines = (diabetes_run.folder / "train.log").read_text(encoding="utf-8").splitlines()
    epochs = diabetes_run.results["epochs_run"]
    assert [line for line in lines if line.startswith("Epoch ")] == [f"Epoch {e}/6" for e in range(1, epochs + 1)]
    number = r"-?\d+\.\d{4}"
    train = [line for line in lines if line.startswith("train - ")]
    assert len(train) == epochs and all(re.fullmatch(
        rf"train - total_loss: {number} \| progression_loss: {number} \| high_progression_loss: {number} \| lr: \S+",
        line) for line in train)
    val = [line for line in lines if line.startswith("val: ")]
    assert len(val) == epochs and all(line.startswith("val: total_loss: ") and " | high_progression_auc: " in line
                                      for line in val)
    best = [line for line in lines if line.startswith("✓ New best model! high_progression.auc=")]
    assert best and best[-1] == f"✓ New best model! high_progression.auc={diabetes_run.results['best_value']:.4f}"
    assert lines[-2].startswith(f"Best epoch: {diabetes_run.results['best_epoch']} ")


# --- predict --------------------------------------------------------------------------------------------------------


def test_predict_reproduces_the_stored_test_predictions_of_a_table_run(diabetes_run: Run) -> None:
    config = load_config(diabetes_run.folder / "config.toml")
    rows = diabetes_run.results["predictions"]["progression"]["row"]
    new = diabetes_run.folder.parent / "new-rows.csv"
    load_table(config.data)[0].iloc[rows].drop(columns=["progression"]).to_csv(new, index=False)
    predicted = predict_cli(diabetes_run, new)
    probabilities = [f"high_progression_proba_progression {rule} 140.5" for rule in ("<", ">=")]
    assert list(predicted.columns) == ["row", "progression", "high_progression", *probabilities]
    assert_matches_stored(predicted, diabetes_run.results["predictions"])


def test_predict_on_rows_missing_a_feature_column_exits_2_naming_it(diabetes_run: Run,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    new = diabetes_run.folder.parent / "no-bmi.csv"
    load_table(load_config(diabetes_run.folder / "config.toml").data)[0].drop(columns=["bmi"]).to_csv(new, index=False)
    assert main(["predict", str(diabetes_run.folder), str(new), "--out", str(new.with_suffix(".out.csv"))]) == 2
    assert "'bmi'" in capsys.readouterr().err


def test_predict_reproduces_the_stored_test_predictions_of_an_image_run(cells_run: Run) -> None:
    rows = cells_run.results["predictions"]["infected"]["row"]
    images = cells_run.folder.parent / "test-images.npy"
    np.save(images, cell_images()[rows])
    assert_matches_stored(predict_cli(cells_run, images), cells_run.results["predictions"])


def test_predict_reads_an_image_folder_with_a_listing(tmp_path: Path) -> None:
    folder = tmp_path / "images"
    folder.mkdir()
    files = [f"cell_{index:03d}.png" for index in range(CELLS_PARAMS["n_images"])]
    for name, image in zip(files, cell_images(), strict=True):
        Image.fromarray(np.round(image[0] * 255).astype(np.uint8)).save(folder / name)
    DATASETS.get("cells-synthetic").table(CELLS_PARAMS).assign(file=files).to_csv(folder / "labels.csv", index=False)
    config = tmp_path / "folder.json"
    config.write_text(json.dumps({**CELLS, "tasks": FOLDER_TASKS,
                                  "data": {"path": str(folder), "image_size": CELLS_PARAMS["size"]}}), encoding="utf-8")
    run = run_cli(config, tmp_path / "run")
    listing = tmp_path / "to-predict.csv"
    test_files = [files[row] for row in run.results["predictions"]["time"]["row"]]
    pd.DataFrame({"file": test_files}).to_csv(listing, index=False)
    predicted = predict_cli(run, folder, "--labels", str(listing))
    assert predicted["file"].tolist() == pd.read_csv(listing)["file"].tolist()
    assert_matches_stored(predicted, run.results["predictions"])


def test_predict_refuses_a_run_whose_training_data_changed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "toy.csv"
    toy_table().to_csv(data, index=False)
    config = tmp_path / "toy.toml"
    config.write_text('[data]\npath = "toy.csv"\n[[tasks]]\nname = "y"\ncolumn = "y"\n[model]\nhidden = [4]\n'
                      '[train]\nepochs = 1\ndevice = "cpu"\n', encoding="utf-8")
    run = run_cli(config, tmp_path / "run")
    toy_table(seed=1).to_csv(data, index=False)
    assert main(["predict", str(run.folder), str(data), "--out", str(tmp_path / "p.csv")]) == 2
    assert "is not what the run trained on" in capsys.readouterr().err
