"""Every registered strategy trains end to end through the CLI: full batch, and mini-batches with missing labels.

The list comes from ``available()``, so a method another engineer adds is covered with no change here.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mtl_core.cli import main
from mtl_core.config import ExperimentConfig
from mtl_core.errors import ConfigError
from mtl_core.experiment import run_to_results
from mtl_core.train import trainer
from mtl_core.weighting import available, create
from tests.fixtures.builders import toy_table

ROOT = Path(__file__).resolve().parents[3]
DIABETES = ROOT / "examples" / "diabetes.toml"
ROWS = 162  # 129 training rows: batches of 32 leave a last batch of one row (see the last test)


def run(arguments: list[str], out: Path) -> dict[str, Any]:
    assert main([*arguments, "--quiet", "--out", str(out)]) == 0
    results: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return results


def assert_completed_with_finite_test_metrics(results: dict[str, Any]) -> None:
    assert results["status"] == "completed"
    values = [value for task in results["metrics"]["test"].values() for value in task.values() if value is not None]
    assert values and all(math.isfinite(value) for value in values)


def sparse_label_config(folder: Path) -> Path:
    """A CSV whose regression label is missing on every third row, and a mini-batch config reading it."""
    table = toy_table(ROWS)
    table.loc[np.arange(ROWS) % 3 == 0, "y"] = np.nan
    table.to_csv(folder / "sparse.csv", index=False)
    config = folder / "sparse.toml"
    config.write_text(
        f'[data]\npath = {json.dumps(str(folder / "sparse.csv"))}\ntest_size = 0.2\nval_size = 0.0\n'
        '[[tasks]]\nname = "y"\ncolumn = "y"\nkind = "regression"\n'
        '[[tasks]]\nname = "c"\ncolumn = "c"\nkind = "binary"\n'
        '[model]\nhidden = [8]\n[train]\nepochs = 2\nbatch_size = 32\nseed = 0\n',
        encoding="utf-8",
    )
    return config


@pytest.mark.parametrize("name", available())
def test_every_method_trains_the_diabetes_example_to_finite_test_metrics(name: str, tmp_path: Path) -> None:
    results = run(["run", str(DIABETES), "--set", f"strategy.name={name}", "train.epochs=20"], tmp_path / "r.json")
    assert_completed_with_finite_test_metrics(results)


@pytest.mark.parametrize("name", available())
def test_every_method_trains_on_mini_batches_where_a_task_is_sometimes_unlabelled(name: str, tmp_path: Path) -> None:
    config = sparse_label_config(tmp_path)
    results = run(["run", str(config), "--set", f"strategy.name={name}"], tmp_path / "r.json")
    assert_completed_with_finite_test_metrics(results)


def test_the_mini_batch_data_leaves_the_sparse_task_unlabelled_in_some_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Guards the test above: if the split or the shuffle changes, pick another ROWS that keeps this true."""
    seen: list[tuple[bool, ...]] = []
    step = trainer.Trainer._step

    def spy(self: trainer.Trainer, losses: Any, epoch: int, present: tuple[bool, ...], *rest: Any) -> Any:
        seen.append(present)
        return step(self, losses, epoch, present, *rest)

    monkeypatch.setattr(trainer.Trainer, "_step", spy)
    run(["run", str(sparse_label_config(tmp_path))], tmp_path / "r.json")
    assert (False, True) in seen


PER_COORDINATE_STATE = {"db_mtl", "moco"}  # their state follows gradient coordinates, which a batch's rows are not


@pytest.mark.parametrize("name", sorted(set(available(kind="gradient")) - PER_COORDINATE_STATE))
def test_every_gradient_method_trains_in_the_representation_space_with_a_smaller_last_batch(
    name: str, tmp_path: Path,
) -> None:
    """129 training rows in batches of 32: the representation Jacobian is [T, 32·D], then [T, 1·D]."""
    arguments = ["run", str(sparse_label_config(tmp_path)), "--set", f"strategy.name={name}",
                 "strategy.space=representation"]
    assert_completed_with_finite_test_metrics(run(arguments, tmp_path / "r.json"))


@pytest.mark.parametrize("name", sorted(PER_COORDINATE_STATE))
def test_a_method_with_per_coordinate_state_refuses_the_representation_space_naming_it(name: str) -> None:
    with pytest.raises(ConfigError, match=r"^strategy\.space = 'representation': .* change from batch to batch"):
        create(name, space="representation")


def test_the_representation_space_trains_through_the_python_api_to_finite_results() -> None:
    config = ExperimentConfig.model_validate({
        "data": {"dataset": "diabetes", "test_size": 0.2, "val_size": 0.0},
        "tasks": [{"name": "y", "column": "progression", "kind": "regression", "standardize": True},
                  {"name": "high", "column": "progression", "kind": "binary", "threshold": 140.5}],
        "model": {"hidden": [8]}, "strategy": {"name": "upgrad", "space": "representation"},
        "train": {"epochs": 2, "batch_size": 100, "seed": 0},  # about 350 training rows: a smaller last batch
    })
    assert_completed_with_finite_test_metrics(run_to_results(config))
