"""Missing labels are masked per task, never dropped; masked values never reach a loss or a metric."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from mtl_core.config import ExperimentConfig
from mtl_core.data import build_dataset
from mtl_core.experiment import collect_results
from mtl_core.tasks import TaskSpec
from mtl_core.train import Trainer


def routed_table(n: int = 120, seed: int = 0) -> pd.DataFrame:
    """Each row is labelled for task a or task b (column task_id); ya and yb hold the labels."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4))
    task = np.where(np.arange(n) % 2 == 0, "a", "b")
    return pd.DataFrame({
        "x0": x[:, 0], "x1": x[:, 1], "x2": x[:, 2], "x3": x[:, 3], "task_id": task,
        "ya": x[:, 0] + 0.1 * rng.normal(size=n), "yb": (x[:, 1] > 0).astype(int),
    })


def config_for(table: pd.DataFrame) -> ExperimentConfig:
    return ExperimentConfig.from_dict({
        "data": {"task_id_column": "task_id"},
        "tasks": [{"name": "a", "column": "ya", "kind": "regression"},
                  {"name": "b", "column": "yb", "kind": "binary"}],
        "model": {"hidden": [8]}, "train": {"epochs": 5, "lr": 0.05},
    })


def train(table: pd.DataFrame) -> dict:
    config = config_for(table)
    dataset = build_dataset(table, config.tasks, config.data, "routed.csv")
    return collect_results(config, Trainer(config, dataset).run())


def test_routed_rows_are_labelled_for_their_own_task_only() -> None:
    table = routed_table()
    config = config_for(table)
    dataset = build_dataset(table, config.tasks, config.data, "routed.csv")
    split = dataset.train
    routed_to_a = table["task_id"].to_numpy()[split.rows] == "a"
    assert torch.equal(split.masks["a"], torch.as_tensor(routed_to_a))
    assert torch.equal(split.masks["b"], torch.as_tensor(~routed_to_a))
    assert dataset.feature_columns == ("x0", "x1", "x2", "x3")  # the task id is not a feature


def test_garbage_in_masked_cells_changes_no_loss_and_no_metric() -> None:
    clean = routed_table()
    noisy = clean.copy()
    routed_to_b = noisy["task_id"] == "b"
    noisy.loc[routed_to_b, "ya"] = 1e6  # task a's column on rows that belong to task b
    noisy.loc[~routed_to_b, "yb"] = 1 - noisy.loc[~routed_to_b, "yb"]  # task b's labels flipped on a's rows
    first, second = train(clean), train(noisy)
    assert first["history"] == [{**entry, "duration_s": first["history"][i]["duration_s"],
                                 "elapsed_s": first["history"][i]["elapsed_s"]}
                                for i, entry in enumerate(second["history"])]
    assert first["metrics"] == second["metrics"]


def test_missing_label_keeps_the_row_for_the_other_task() -> None:
    table = routed_table().drop(columns="task_id")
    table.loc[::3, "ya"] = np.nan
    tasks = (TaskSpec(name="a", column="ya"), TaskSpec(name="b", column="yb", kind="binary"))
    config = ExperimentConfig.from_dict({"tasks": [t.model_dump() for t in tasks]})
    dataset = build_dataset(table, tasks, config.data, "t.csv")
    kept = len(dataset.train) + len(dataset.val) + len(dataset.test)
    assert kept == len(table)
    labelled = np.concatenate([s.rows[s.masks["a"].numpy()] for s in (dataset.train, dataset.val, dataset.test)])
    assert set(labelled) == set(np.flatnonzero(table["ya"].notna()))
    assert all(bool(s.masks["b"].all()) for s in (dataset.train, dataset.val, dataset.test))


def test_a_routed_csv_trains_from_the_command_line(tmp_path: "Path") -> None:
    import json
    import subprocess
    import sys
    from pathlib import Path

    table = routed_table(200).assign(y=lambda t: np.where(t["task_id"] == "a", t["ya"], t["yb"]))
    table.drop(columns=["ya", "yb"]).to_csv(tmp_path / "routed.csv", index=False)
    (tmp_path / "routed.toml").write_text(
        '[data]\npath = "routed.csv"\ntask_id_column = "task_id"\n\n'
        '[[tasks]]\nname = "a"\ncolumn = "y"\nkind = "regression"\n\n'
        '[[tasks]]\nname = "b"\ncolumn = "y"\nkind = "binary"\n\n[train]\nepochs = 5\n'
    )
    root = Path(__file__).resolve().parents[3]
    done = subprocess.run([sys.executable, "-m", "mtl_core", "run", str(tmp_path / "routed.toml"), "--quiet",
                           "--out", str(tmp_path / "r.json")], capture_output=True, text=True, cwd=root, timeout=120)
    assert done.returncode == 0, done.stderr
    results = json.loads((tmp_path / "r.json").read_text())
    routed = table.set_index(np.arange(len(table)))["task_id"]
    for task in ("a", "b"):
        rows = results["predictions"][task]["row"]
        assert rows and set(routed.iloc[rows]) == {task}  # each task is scored on its own rows only
