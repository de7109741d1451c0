"""A stored run's folder holds the evaluated weights (best.pt) and the last epoch's (last.pt)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch

from mtl_core.cli import main
from mtl_core.store import RunStore

from tests.unit.store.conftest import DIABETES_TOML


def stored_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str], *settings: str) -> tuple[RunStore, str]:
    db = tmp_path / "runs.sqlite"
    assert main(["run", str(DIABETES_TOML), "--db", str(db), "--out", str(tmp_path / "r.json"),
                 "--set", *settings]) == 0
    match = re.search(r"^run: (\S+) ", capsys.readouterr().out, re.MULTILINE)
    assert match is not None
    return RunStore(db), match.group(1)


def weights(path: Path) -> dict[str, torch.Tensor]:
    return torch.load(path, weights_only=True)


def test_without_selection_last_and_best_are_the_same_weights(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    store, run_id = stored_folder(tmp_path, capsys, "train.epochs=3")
    folder = store.run_dir(run_id)
    best, last = weights(folder / "checkpoints" / "best.pt"), weights(folder / "checkpoints" / "last.pt")
    assert best.keys() == last.keys() and all(torch.equal(best[name], last[name]) for name in best)
    assert "checkpoints/last.pt" in store.require(run_id).artefacts


def test_with_selection_last_holds_the_final_epochs_weights(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    # a learning rate this high makes the validation loss worse after the first epochs
    store, run_id = stored_folder(tmp_path, capsys, "train.epochs=30", "train.lr=0.5", 'train.select="val_loss"')
    run = store.require(run_id)
    assert run.best_epoch is not None and run.best_epoch < 30
    folder = store.run_dir(run_id)
    best, last = weights(folder / "checkpoints" / "best.pt"), weights(folder / "checkpoints" / "last.pt")
    assert any(not torch.equal(best[name], last[name]) for name in best)
    # the same run without selection evaluates (and saves as best.pt) its final epoch's weights
    plain_store, plain_id = stored_folder(tmp_path / "plain", capsys, "train.epochs=30", "train.lr=0.5")
    final = weights(plain_store.run_dir(plain_id) / "checkpoints" / "best.pt")
    assert all(torch.equal(final[name], last[name]) for name in final)
