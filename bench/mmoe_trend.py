"""MMoE vs hard parameter sharing as the tasks' correlation falls: Ma et al., 2018, "Modeling Task Relationships
in Multi-task Learning with Multi-gate Mixture-of-Experts", KDD, §4.3 (Figure 4: the gap between MMoE and the
shared-bottom model grows as the task correlation falls).

Run ``python -m bench.mmoe_trend``; it writes the section "MMoE vs hard sharing by task correlation" of
docs/benchmarks.md (replacing only that section) and prints it.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from mtl_core.config import ExperimentConfig, ModelConfig
from mtl_core.data.synthetic import MMoEParams, mmoe_table
from mtl_core.experiment import run_to_results
from mtl_core.models import build_model
from bench.report import write_section

CORRELATIONS = (1.0, 0.5, 0.0)
TASKS = ("y1", "y2")
N_FEATURES = MMoEParams().n_features
EXPERTS, EXPERT_WIDTH = 4, 16
EPOCHS = (10, 30)  # an early budget (Ma et al. compare training curves) and one where hps has about converged
TRAIN: dict[str, Any] = {"batch_size": 256, "lr": 0.01, "optimizer": "adam", "device": "cpu"}
HEADING = "## MMoE vs hard sharing by task correlation"
OUTPUT = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
Results = dict[tuple[int, float, str], dict[str, list[float]]]  # (epochs, correlation, architecture) → task → MSEs


def n_parameters(model: dict[str, Any]) -> int:
    """How many parameters the architecture has on mmoe-synthetic (100 features, two scalar heads)."""
    built = build_model(ModelConfig(**model), N_FEATURES, dict.fromkeys(TASKS, 1))
    return sum(parameter.numel() for parameter in built.parameters())


def models() -> dict[str, dict[str, Any]]:
    """MMoE with 4 experts of one 16-unit layer and linear heads; hps with one hidden layer as wide as makes
    its parameter count closest to MMoE's (experts + gates + heads), so neither gets a bigger budget."""
    mmoe = {"architecture": "mmoe", "hidden": [EXPERT_WIDTH], "n_experts": EXPERTS}
    one, two = (n_parameters({"architecture": "hps", "hidden": [width]}) for width in (1, 2))
    slope = two - one  # hps parameters grow linearly with the width of its single layer
    width = round((n_parameters(mmoe) - (one - slope)) / slope)
    return {"hps": {"architecture": "hps", "hidden": [width]}, "mmoe": mmoe}


def run_mse(model: dict[str, Any], correlation: float, seed: int, epochs: int) -> dict[str, float]:
    """Test MSE per task of one run; the seed draws both the data set (u1, u2, x, noise) and the training."""
    config = ExperimentConfig.from_dict({
        "data": {"dataset": "mmoe-synthetic", "params": {"correlation": correlation, "seed": seed}},
        "model": model, "train": {**TRAIN, "epochs": epochs, "seed": seed},
    })
    results = run_to_results(config)
    if results["status"] != "completed":
        raise RuntimeError(f"{model['architecture']} at correlation {correlation}, seed {seed}: {results['reason']}")
    return {task: float(results["metrics"]["test"][task]["mse"]) for task in TASKS}


def run_all(seeds: int) -> Results:
    """Every architecture at every correlation over ``seeds`` seeds (the same data sets for both)."""
    results: Results = {}
    for epochs in EPOCHS:
        for correlation in CORRELATIONS:
            for name, model in models().items():
                runs = [run_mse(model, correlation, seed, epochs) for seed in range(seeds)]
                results[epochs, correlation, name] = {task: [run[task] for run in runs] for task in TASKS}
                print(f"{epochs} epochs, correlation {correlation}: {name} done", flush=True)
    return results


def label_correlation(correlation: float, seeds: int) -> float:
    """Mean Pearson correlation of y1 and y2 over the seeds' data sets (the sines lower it below p)."""
    tables = [mmoe_table(correlation=correlation, seed=seed) for seed in range(seeds)]
    return float(np.mean([np.corrcoef(table["y1"], table["y2"])[0, 1] for table in tables]))


def mean_std(values: Sequence[float]) -> str:
    """'mean ± sample std' with 4 decimals."""
    spread = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.fmean(values):.4f} ± {spread:.4f}"


def table_row(epochs: int, correlation: float, r: float, hps: dict[str, list[float]],
              mmoe: dict[str, list[float]]) -> str:
    """One Markdown row: MSE per task and architecture, and the gap hps − mmoe (absolute and relative to hps)."""
    cells = [mean_std(arch[task]) for task in TASKS for arch in (hps, mmoe)]
    gap = statistics.fmean([statistics.fmean(hps[task]) - statistics.fmean(mmoe[task]) for task in TASKS])
    relative = gap / statistics.fmean([statistics.fmean(hps[task]) for task in TASKS])
    return f"| {epochs} | {correlation:.1f} | {r:.2f} | {' | '.join(cells)} | {gap:+.4f} ({100 * relative:+.0f}%) |"


def table_rows(results: Results, seeds: int) -> list[str]:
    """One row per budget and correlation."""
    pearson = {correlation: label_correlation(correlation, seeds) for correlation in CORRELATIONS}
    return [table_row(epochs, correlation, pearson[correlation], results[epochs, correlation, "hps"],
                      results[epochs, correlation, "mmoe"]) for epochs in EPOCHS for correlation in CORRELATIONS]


def trend(results: Results) -> str:
    """The mean gap hps − mmoe as p falls, per budget (Ma et al.: it grows as the correlation falls)."""
    parts = []
    for epochs in EPOCHS:
        gaps = [statistics.fmean([statistics.fmean(results[epochs, correlation, "hps"][task])
                                  - statistics.fmean(results[epochs, correlation, "mmoe"][task]) for task in TASKS])
                for correlation in CORRELATIONS]
        parts.append(f"{epochs} epochs: " + " → ".join(f"{gap:+.4f}" for gap in gaps))
    ps = ", ".join(f"{correlation:.1f}" for correlation in CORRELATIONS)
    return f"Gap as p falls ({ps}): " + "; ".join(parts) + "."


def render(results: Results, seeds: int, seconds: float) -> str:
    """The whole benchmarks.md section, heading included."""
    widths = {name: model["hidden"][0] for name, model in models().items()}
    counts = {name: n_parameters(model) for name, model in models().items()}
    return "\n".join([
        HEADING, "",
        "Reproduce: `python -m bench.mmoe_trend` (writes this section). Data: `mmoe-synthetic` (Ma et al., KDD 2018, "
        "§4.1), 10,000 rows, 100 features, two regression tasks whose weight vectors have cosine p; seed s draws "
        "both the data set and the training, so both architectures see the same data sets. "
        f"Seeds 0–{seeds - 1}; {' and '.join(map(str, EPOCHS))} epochs, mini-batches of {TRAIN['batch_size']}, "
        f"Adam, lr {TRAIN['lr']}, equal weights, CPU, 1 thread (torch {torch.__version__}); {seconds / 60:.1f} min in all.",
        "",
        f"Same budget: MMoE has {EXPERTS} experts of one {widths['mmoe']}-unit layer, a linear gate per task and "
        f"linear heads ({counts['mmoe']:,} parameters); hps has one shared layer of {widths['hps']} units, the "
        f"width that brings it closest, and linear heads ({counts['hps']:,} parameters).",
        "",
        "Test MSE, mean ± std over seeds; r is the labels' Pearson correlation (mean over the data sets); "
        "gap = mean over both tasks of hps − mmoe (positive: MMoE better), relative to hps.",
        "",
        "| epochs | p | r | hps y1 | mmoe y1 | hps y2 | mmoe y2 | gap hps − mmoe |",
        "|---|---|---|---|---|---|---|---|",
        *table_rows(results, seeds), "",
        trend(results), "",
    ])


def main(argv: Sequence[str] | None = None) -> None:
    """Train, then write and print the section."""
    parser = argparse.ArgumentParser(description="MMoE vs hard sharing by task correlation")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--no-write", action="store_true", help="print the section only")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)  # tiny models: a second thread only spins, and slows down badly when the CPU is shared
    started = time.perf_counter()
    results = run_all(args.seeds)
    section = render(results, args.seeds, time.perf_counter() - started)
    if not args.no_write:
        write_section(HEADING, section, OUTPUT)
    print(section)


if __name__ == "__main__":
    main()
