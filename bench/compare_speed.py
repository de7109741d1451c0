"""Single-task vs multi-task comparison: wall time as a ratio to one multi-task run (``python -m bench.compare_speed``).

The comparison of T tasks over N seeds trains (T + 1) × N models: N multi-task runs and, per seed, one
single-task model per task. Measured in one process, one thread, on the config ``examples/wine_three_tasks.toml``
(3 tasks) with 5 seeds:

- (a) one multi-task run, ``run_to_results(config)``: the baseline every ratio divides by;
- (b) the naive comparison: for each seed, the multi-task run and each task's one-task ``hps`` run, one after another;
- (c) the comparison trained together: ``run_together`` over the 5 seeds of the multi-task config, then over the
  5 seeds of the same config with ``model.architecture = "single_task"`` (T independent networks, trained exactly
  as the T one-task runs);
- (d) ``mtl_core.compare.compare(config, seeds=5, strategies=["equal"])``, which trains (c) through ``run_group``.

Each repeat times (a) before and after the others and divides by the mean of its two (a) timings, so a machine
that is busier in one repeat than in another moves both sides of each ratio. Wall time is the target; CPU time
of the process (``time.process_time``) is reported beside it, as it moves less when other work shares the
cores. (b) is about 15 to 20 times (a), so it runs in the first ``--naive-repeats`` repeats only.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

from mtl_core.config import ExperimentConfig, load_config
from mtl_core.compare import compare
from mtl_core.experiment import resolve, run_to_results, run_together, together_reason
from bench.report import write_section

CONFIG = Path(__file__).resolve().parent.parent / "examples" / "wine_three_tasks.toml"
SECTION = "## Single-task vs multi-task comparison: batched training"
TARGET = 3.0
LABELS = {"b": "(b) naive: 5 × (MTL + one hps run per task), one after another",
          "c": "(c) together: run_together(5 MTL seeds) + run_together(5 single_task seeds)",
          "d": "(d) compare(config, seeds=5, strategies=[\"equal\"])"}
KEYS = ("b", "c", "d")
WHERE_THE_TIME_GOES = [
    "Where the time goes (cProfile on this machine, which inflates the Python-heavy parts): in one run, about "
    "three quarters of the time is scikit-learn scoring the validation rows after every epoch (9 metrics over 3 "
    "tasks, each call validating its inputs); the training steps take about an eighth. Runs trained together go "
    "through the Trainer's own loop (`mtl_core/train/trainer.py`, `Lockstep`): each Trainer draws its batches and "
    "computes its losses, gradients and step context as it does alone, one optimiser steps the models' stacked "
    "parameters (`mtl_core/train/stack.py`), and each epoch's validation metrics of all the runs are computed at "
    "once with numpy (`task_metrics_per_model` in `mtl_core/train/metrics.py`, equal to scikit-learn to 1e-15, "
    "tested model by model), as are the final validation and test metrics of the runs that end together. What "
    "remains of (c) is mostly the 20 networks' own forward and backward passes, then building the results "
    "(events to dicts) and the per-model losses. Every trained number is the separate run's bit for bit "
    "(`tests/unit/train/test_together.py`: identical train losses and predictions).",
]


def seeded(config: ExperimentConfig, seeds: int) -> list[ExperimentConfig]:
    return [config.with_overrides([f"train.seed={config.train.seed + offset}"]) for offset in range(seeds)]


def one_task(config: ExperimentConfig, index: int) -> ExperimentConfig:
    """The config with task ``index`` alone on an ``hps`` model: one single-task model of the comparison."""
    values = config.to_dict()
    values["tasks"] = [values["tasks"][index]]
    values["model"] = {**values["model"], "architecture": "hps"}
    return ExperimentConfig.from_dict(values)


def single_task(config: ExperimentConfig) -> ExperimentConfig:
    return config.with_overrides(["model.architecture=single_task"])


def naive(config: ExperimentConfig, seeds: int) -> None:
    for seeded_config in seeded(config, seeds):
        run_to_results(seeded_config)
        for index in range(len(seeded_config.tasks)):
            run_to_results(one_task(seeded_config, index))


def together(config: ExperimentConfig, seeds: int) -> None:
    for group in (seeded(config, seeds), seeded(single_task(config), seeds)):
        assert together_reason(group) is None, together_reason(group)
        run_together(group)


def comparison(config: ExperimentConfig, seeds: int) -> None:
    compare(config, seeds=seeds, strategies=["equal"])


def timed(action: Callable[[], Any]) -> tuple[float, float]:
    """Wall time and CPU time of the process, in seconds."""
    wall, cpu = time.perf_counter(), time.process_time()
    action()
    return time.perf_counter() - wall, time.process_time() - cpu


def measure(config: ExperimentConfig, seeds: int, repeats: int, naive_repeats: int) -> dict[str, list[float]]:
    """Per repeat, each comparison's wall and CPU time divided by that repeat's mean one-run times; the seconds."""
    results: dict[str, list[float]] = {f"{kind} {key}": [] for kind in ("wall", "cpu", "s") for key in ("a", *KEYS)}
    run_together(seeded(config.with_overrides(["train.epochs=2"]), 2))  # warm-up: imports, data cache
    for repeat in range(repeats):
        actions: dict[str, Callable[[], Any]] = {"c": lambda: together(config, seeds),
                                                 "d": lambda: comparison(config, seeds)}
        if repeat < naive_repeats:
            actions["b"] = lambda: naive(config, seeds)
        before = timed(lambda: run_to_results(config))
        times = {key: timed(action) for key, action in actions.items()}
        after = timed(lambda: run_to_results(config))
        one_wall, one_cpu = (before[0] + after[0]) / 2, (before[1] + after[1]) / 2
        results["s a"].append(one_wall)
        for key, (wall, cpu) in times.items():
            results[f"wall {key}"].append(wall / one_wall)
            results[f"cpu {key}"].append(cpu / one_cpu)
            results[f"s {key}"].append(wall)
        print(f"repeat {repeat + 1}: a {one_wall:.2f} s; " + "; ".join(
            f"{key} {wall:.2f} s = {wall / one_wall:.2f}× (cpu {cpu / one_cpu:.2f}×)"
            for key, (wall, cpu) in times.items()), flush=True)
    return results


def spread(values: Sequence[float], unit: str = "×") -> str:
    if not values:
        return "not measured"
    if len(values) == 1:
        return f"{values[0]:.2f}{unit} (1 repeat)"
    median, low, high = statistics.median(values), min(values), max(values)
    return f"{median:.2f}{unit} (min {low:.2f}, max {high:.2f}, {len(values)} repeats)"


def machine() -> str:
    """CPU model, cores, load, torch version and thread count."""
    model = platform.processor() or "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        model = next((line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines()
                      if line.startswith("model name")), model)
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg()) if hasattr(os, "getloadavg") else "unknown"
    return (f"{model}, {os.cpu_count()} cores (shared with other work; load average {load} at the start), CPU only; "
            f"torch {torch.__version__}, {torch.get_num_threads()} thread; Python {platform.python_version()}")


def section(results: dict[str, list[float]], config: ExperimentConfig, seeds: int, command: str, load: str) -> str:
    """The whole benchmarks.md section, heading included."""
    models = (len(config.tasks) + 1) * seeds
    rows = [f"| (a) one multi-task run (`run_to_results`) | 1 | 1.00× | 1.00× | {spread(results['s a'], ' s')} |"]
    rows += [f"| {LABELS[key]} | {models} | {spread(results[f'wall {key}'])} | {spread(results[f'cpu {key}'])} | "
             f"{spread(results[f's {key}'], ' s')} |" for key in KEYS if results[f"wall {key}"]]
    best = min((statistics.median(results[f"wall {k}"]) for k in ("c", "d") if results[f"wall {k}"]), default=None)
    verdict = "not measured" if best is None else ("met" if best <= TARGET else "not met") + f" ({best:.2f}×)"
    tasks = ", ".join(f"{task.name} ({task.kind})" for task in config.tasks)
    return "\n".join([
        SECTION, "",
        f"Reproduce: `{command}` (writes this section). Config: `examples/wine_three_tasks.toml` (UCI red wine, "
        f"{len(config.tasks)} tasks: {tasks}; hps {list(config.model.hidden)}, {config.train.epochs} full-batch "
        f"epochs, Adam, equal weights, validation metrics every epoch), {seeds} seeds.",
        "", f"Machine: {load}.", "",
        "Time divided by the mean of the one-run times (a) taken before and after it in the same repeat; median "
        "over repeats, with the range. Wall time is the target; the process's CPU time moves less when other work "
        "shares the cores.", "",
        "| what | models trained | wall time ratio to (a) | CPU time ratio to (a) | wall seconds |",
        "|---|---:|---:|---:|---:|", *rows, "",
        f"Target: the comparison ((c) or (d)) within {TARGET:g}× the wall time of one multi-task run: {verdict}.", "",
        *WHERE_THE_TIME_GOES, "",
    ])


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--config", type=Path, default=CONFIG)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--naive-repeats", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("docs/benchmarks.md"))
    parser.add_argument("--no-write", action="store_true", help="print the section only")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)  # tiny models: a second thread only waits, and slows down badly when the CPU is shared
    load = machine()
    config = resolve(load_config(args.config))
    results = measure(config, args.seeds, args.repeats, args.naive_repeats)
    options = list(sys.argv[1:] if argv is None else argv)
    command = " ".join(["python -m bench.compare_speed", *options])
    text = section(results, config, args.seeds, command, load)
    print(text)
    if not args.no_write:
        write_section(SECTION, text, args.out)


if __name__ == "__main__":
    main()
