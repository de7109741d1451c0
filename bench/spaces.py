"""Test metrics of every gradient method in both spaces, side by side: ``python -m bench.spaces``.

Two set-ups, 5 training seeds each (the data and its split stay fixed): ``examples/wine_three_tasks.toml``
as it is (hps 64→64, 100 full-batch epochs; needs ``MTL_DATA_DIR``) and ``mmoe-synthetic`` at label
correlation p = 0.5 (10 000 rows, hps 64, batch 256, 10 epochs). Every gradient-based strategy runs at
its defaults with ``space = "parameters"`` and ``space = "representation"``, one method after another; the
seeds of one cell train together (``run_together``) where that is allowed (full batch), else one by one.
The tables replace the section "Gradient methods: parameter vs representation space" of
``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import statistics
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from bench.report import write_section
from mtl_core.config import ExperimentConfig
from mtl_core.errors import MTLError
from mtl_core.experiment import run_to_results, run_together, together_reason
from mtl_core.weighting import available

ROOT = Path(__file__).resolve().parent.parent
SECTION = "## Gradient methods: parameter vs representation space"
SPACES = ("parameters", "representation")
MMOE: dict[str, Any] = {
    "data": {"dataset": "mmoe-synthetic", "params": {"correlation": 0.5, "seed": 0}},
    "model": {"architecture": "hps", "hidden": [64]},
    "train": {"epochs": 10, "batch_size": 256, "lr": 0.01, "weight_decay": 0.0, "optimizer": "adam", "device": "cpu"},
}
# the primary metric of each task, and whether higher is better
METRICS = {"wine": {"quality": ("rmse", False), "good": ("auc", True), "alcohol": ("rmse", False)},
           "mmoe": {"y1": ("mse", False), "y2": ("mse", False)}}
Cell = tuple[float, float] | str  # mean and sample standard deviation over the seeds, or why there is none


def base_config(setup: str) -> dict[str, Any]:
    if setup == "wine":
        return tomllib.loads((ROOT / "examples" / "wine_three_tasks.toml").read_text(encoding="utf-8"))
    return {key: dict(value) for key, value in MMOE.items()}


def run_cell(setup: str, name: str, space: str, seeds: int) -> dict[str, Cell]:
    """Test metric per task over the seeds, for one method in one space (or the reason it did not run)."""
    settings = base_config(setup)
    configs = [ExperimentConfig.model_validate({
        **settings, "strategy": {"name": name, "space": space}, "train": {**settings["train"], "seed": seed},
    }) for seed in range(seeds)]
    try:
        metrics = ([run["metrics"] for run in run_together(configs)] if together_reason(configs) is None
                   else [run_to_results(config)["metrics"] for config in configs])
    except MTLError as error:
        return dict.fromkeys(METRICS[setup], "refused" if "strategy.space" in str(error) else "error")
    cells: dict[str, Cell] = {}
    for task, (metric, _) in METRICS[setup].items():
        found = [run["test"][task][metric] for run in metrics if run]  # an empty dict: the run diverged
        values = [float(value) for value in found if value is not None]
        spread = statistics.stdev(values) if len(values) > 1 else 0.0
        cells[task] = (statistics.fmean(values), spread) if len(values) == seeds else "diverged"
    return cells


def mean_std(cell: Cell) -> str:
    return cell if isinstance(cell, str) else f"{cell[0]:.4f} ± {cell[1]:.4f}"


def differences(setup: str, results: dict[tuple[str, str], dict[str, Cell]], names: Sequence[str]) -> str:
    """The (method, task) pairs whose means in the two spaces are further apart than the larger spread."""
    found = []
    for name in names:
        for task, (metric, higher) in METRICS[setup].items():
            first, second = (results[name, space][task] for space in SPACES)
            if isinstance(first, tuple) and isinstance(second, tuple) and \
                    abs(first[0] - second[0]) > max(first[1], second[1]):
                better = "better" if (second[0] > first[0]) == higher else "worse"
                found.append(f"{name} {task} ({better} in the representation space)")
    return ("Means further apart than the larger standard deviation: " + "; ".join(found) + "."
            if found else "No mean moves by more than the larger standard deviation.")


def table(setup: str, results: dict[tuple[str, str], dict[str, Cell]], names: Sequence[str]) -> str:
    tasks = METRICS[setup]
    header = [f"{task} {metric} ({'↑' if higher else '↓'}) {space[:5]}."
              for task, (metric, higher) in tasks.items() for space in SPACES]
    lines = ["| method | " + " | ".join(header) + " |", "|---|" + "---:|" * len(header)]
    for name in names:
        cells = [mean_std(results[name, space][task]) for task in tasks for space in SPACES]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--only", nargs="*", help="gradient strategies (default: every registered one)")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--setups", nargs="*", default=["wine", "mmoe"], choices=["wine", "mmoe"])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument("--no-write", action="store_true", help="print the tables only")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    names = args.only or available(kind="gradient")
    every: dict[str, dict[tuple[str, str], dict[str, Cell]]] = {}
    for setup in args.setups:
        every[setup] = {}
        for name in names:
            for space in SPACES:
                every[setup][name, space] = run_cell(setup, name, space, args.seeds)
                print(setup, name, space, {task: mean_std(cell) for task, cell in every[setup][name, space].items()},
                      flush=True)
    text = section(every, names, args.seeds)
    print(text)
    if not args.no_write:
        write_section(SECTION, text, args.out)


TITLES = {"wine": "UCI red wine, `examples/wine_three_tasks.toml` (hps 64→64, 100 full-batch epochs)",
          "mmoe": "`mmoe-synthetic`, label correlation p = 0.5 (10 000 rows, hps 64, batch 256, 10 epochs, no weight decay)"}


def section(every: dict[str, dict[tuple[str, str], dict[str, Cell]]], names: Sequence[str], seeds: int) -> str:
    """The Markdown section: what was run, then per set-up the table and where the spaces differ."""
    lines = [SECTION, "",
             f"Test metrics (mean ± standard deviation over train.seed 0–{seeds - 1}; the data and its split fixed) "
             "of every gradient method at its defaults, with the task gradients taken w.r.t. the shared parameters "
             "(`space = \"parameters\"`, param.) or w.r.t. the shared representation (`\"representation\"`, repre.). "
             "`refused`: the method keeps state per gradient coordinate and refuses the representation space.",
             "", "Reproduce: `MTL_DATA_DIR=... python -m bench.spaces` (writes this section).", ""]
    for setup, results in every.items():
        lines += [f"### {TITLES[setup]}", "", table(setup, results, names), "", differences(setup, results, names), ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
