"""What the Sweep page needs from the engine: a sweep's settings from its form's plain values, the metrics a
config offers, the sweep queued as one job, and the trials stored so far."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from mtl_core import limits
from mtl_core.config import ExperimentConfig
from mtl_core.errors import ConfigError
from mtl_core.sweep.spec import SweepSpec, metric_value


def base_config(values: Mapping[str, Any]) -> ExperimentConfig:
    """A base experiment from a preset's or a data set's settings."""
    return ExperimentConfig.from_dict(dict(values))


def metric_choices(config: ExperimentConfig) -> dict[str, str]:
    """``<split>.<task>.<metric>`` -> its better direction (min or max), validation first, primary metric first."""
    from mtl_core.experiment import resolve
    from mtl_core.tasks import higher_is_better, metrics_for

    choices: dict[str, str] = {}
    for split in ("val", "test"):
        for task in resolve(config).tasks:
            for metric in dict.fromkeys([str(task.metric), *(task.metrics or metrics_for(task.kind))]):
                choices[f"{split}.{task.name}.{metric}"] = "max" if higher_is_better(metric) else "min"
    return choices


def sweep_values(config: ExperimentConfig, choices: Mapping[str, Any]) -> dict[str, Any]:
    """The sweep file's settings for the page's choices (strategies, hidden layers, learning rates, seeds, metric)."""
    grid: dict[str, list[Any]] = {}
    random: dict[str, Any] = {}
    if choices["strategies"]:
        grid["strategy.name"] = list(choices["strategies"])
    grid["model.hidden"] = _layers(str(choices["hidden"]))
    lr = choices["lr"]
    if "grid" in lr:
        grid["train.lr"] = _numbers(str(lr["grid"]), "train.lr")
    else:
        random["train.lr"] = {"log_uniform": list(lr["log_uniform"])}
    return {"metric": choices["metric"], "mode": choices.get("mode", "min"), "seeds": int(choices["seeds"]),
            "samples": int(lr.get("samples", 1)), "grid": grid, "random": random}


def _layers(text: str) -> list[list[int]]:
    """``32; 64,64`` -> [[32], [64, 64]]; ConfigError naming model.hidden otherwise."""
    try:
        layers = [[int(units) for units in choice.split(",")] for choice in text.split(";") if choice.strip()]
    except ValueError:
        raise ConfigError(f"model.hidden: {text[:80]!r} must be whole numbers, ',' between layers and ';' between "
                          f"choices, e.g. 32; 64,64") from None
    if not layers:
        raise ConfigError("model.hidden: give at least one choice of layers, e.g. 32; 64,64")
    return layers


def _numbers(text: str, key: str) -> list[float]:
    try:
        values = [float(value) for value in text.split(",") if value.strip()]
    except ValueError:
        raise ConfigError(f"{key}: {text[:80]!r} must be numbers separated by ',', e.g. 0.001, 0.01") from None
    if not values:
        raise ConfigError(f"{key}: give at least one value")
    return values


def submit_sweep(manager: Any, spec: SweepSpec, config: ExperimentConfig, backend: str, concurrent: int,
                 owner: str | None) -> tuple[str, str | None]:
    """Check every trial, then queue the sweep on the job manager as one job stored as a ``sweep`` group; returns
    the job id and a note when the trials were cut to MAX_TRIALS."""
    from mtl_core.sweep.backends import make_backend
    from mtl_core.sweep.runner import run_sweep
    from mtl_core.sweep.spec import expand

    trials = expand(spec, config.to_dict())
    note = None
    if len(trials) > limits.MAX_TRIALS:
        note = (f"{len(trials)} trials cut to the first {limits.MAX_TRIALS}: {limits.describe('MAX_TRIALS')}. "
                f"Vary fewer settings, samples or seeds to run them all.")
        trials = trials[:limits.MAX_TRIALS]
    backend_ = make_backend(backend, max_concurrent=min(concurrent, limits.MAX_CONCURRENT_TRIALS),
                            cpus=spec.resources.cpus, gpus=spec.resources.gpus, mode=spec.mode)

    def work(should_stop: Any, report: Any, on_run: Any = None) -> dict[str, Any]:
        return run_sweep(spec, trials, backend_, on_run=on_run, on_progress=report, should_stop=should_stop)

    first = ExperimentConfig.from_dict(trials[0].config)
    return manager.submit_work(work, first, len(trials), owner=owner, group="sweep"), note


def stored_trials(store: Any, group_id: str, metric: str) -> pd.DataFrame:
    """The group's trials stored so far: trial label, status and the metric's value."""
    group = store.get_group(group_id)
    rows = []
    for run in group.runs if group is not None else ():
        stored = store.get(run.id)
        value = metric_value({"metrics": stored.metrics}, metric) if stored is not None else None
        rows.append({"trial": run.label or run.id, "status": run.status, metric: value})
    return pd.DataFrame(rows, columns=["trial", "status", metric])
