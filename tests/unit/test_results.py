"""RunResults: RESULTS.json as a typed value, written and read back key for key, importable without PyTorch."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import FrozenInstanceError, replace
from pathlib import Path
from typing import Any

import pytest

from mtl_core.errors import DataError
from mtl_core.results import RunResults

ROOT = Path(__file__).resolve().parents[2]


def written() -> dict[str, Any]:
    return {
        "config": {"train": {"seed": 0, "select": None}}, "status": "diverged",
        "reason": "loss of task 'y' became nan at epoch 3", "epochs_run": 2, "duration_s": 0.25,
        "metrics": {"val": {}, "test": {}},
        "history": [{"epoch": 1, "train_loss": {"y": 1.5}, "val_loss": {}, "weights": {}, "metrics": {},
                     "duration_s": 0.1, "elapsed_s": 0.1, "extras": {"lr": 0.01}}],
        "predictions": {}, "best_epoch": None, "best_value": None,
        "run": {"tasks": ["y"], "epochs": 5}, "environment": {"torch": "2", "python": "3.11"},
    }


def test_a_results_file_reads_back_to_the_same_keys_and_values() -> None:
    results = RunResults.from_dict(written())
    assert results.to_dict() == written() and list(results.to_dict()) == list(written())
    assert results.status == "diverged" and results.history[0]["train_loss"] == {"y": 1.5}


def test_readers_by_key_see_the_attributes() -> None:
    results = RunResults.from_dict(written())
    assert results["reason"] == results.reason and results.get("best_epoch") is None and "run" in results
    assert dict(results) == results.to_dict()
    with pytest.raises(KeyError):
        results["nope"]  # noqa: B018


def test_a_changed_value_is_a_new_results_value() -> None:
    results = RunResults.from_dict(written())
    with pytest.raises(FrozenInstanceError):
        results.status = "completed"  # type: ignore[misc]
    assert replace(results, duration_s=1.0).duration_s == 1.0 and results.duration_s == 0.25


def test_an_older_file_gets_the_keys_it_lacks_and_a_foreign_file_is_refused() -> None:
    oldest = {key: written()[key] for key in ("config", "status", "metrics", "history", "duration_s")}
    results = RunResults.from_dict(oldest)
    assert (results.reason, results.epochs_run, results.predictions, results.best_epoch) == ("", 1, {}, None)
    with pytest.raises(DataError, match="lack history, duration_s"):
        RunResults.from_dict({key: oldest[key] for key in ("config", "status", "metrics")})
    json.dumps(results.to_dict(), allow_nan=False)


def test_the_module_loads_without_pytorch() -> None:
    probe = "import sys, mtl_core.results; print(sorted(set(sys.modules) & {'torch', 'sklearn', 'pandas'}))"
    shown = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert shown.stdout.strip() == "[]"
