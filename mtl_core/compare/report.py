"""A comparison's summary from its runs: per task and method, paired against single-task, Δm%, verdicts.

The summary is JSON-ready (no NaN: a missing number is None) and is exactly what
``python -m mtl_core compare --out`` writes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mtl_core.compare.runs import STL, Results, run_records
from mtl_core.compare.stats import delta_m, delta_m_summary, describe, paired, seeds_caution, verdict
from mtl_core.config import ExperimentConfig
from mtl_core.errors import ConfigError
from mtl_core.tasks import higher_is_better, metrics_for

Table = Mapping[str, Sequence[Results | None]]  # method -> results per seed (None: not run)


def check_tasks(config: ExperimentConfig) -> None:
    """Refuse a one-task experiment: with nothing to share, no multi-task model exists to compare.

    ConfigError naming the task, and what to do.
    """
    if len(config.tasks) >= 2:
        return
    names = ", ".join(repr(task.name) for task in config.tasks) or "none"
    raise ConfigError(f"compare: the experiment has one task ({names}); multi-task learning shares a network "
                      f"between 2 or more tasks, so there is no multi-task model to compare with training each task "
                      f"alone. Add a task (on the Data page, or a [[tasks]] entry) and compare again")


def metric_value(results: Results | None, task: str, metric: str) -> float | None:
    """A test metric of one run, or None when the run did not complete (diverged, stopped, not run)."""
    if results is None or results.status != "completed":
        return None
    value = results.metrics.get("test", {}).get(task, {}).get(metric)
    return None if value is None else float(value)


def metric_block(table: Table, strategies: Sequence[str], task: str, metric: str) -> dict[str, Any]:
    """One metric of one task: every method's summary, and each strategy paired with single-task."""
    higher = higher_is_better(metric)
    results = {method: describe([metric_value(run, task, metric) for run in column])
               for method, column in table.items()}
    return {"metric": metric, "higher_is_better": higher, "results": results,
            "paired": {name: paired(results[name]["values"], results[STL]["values"], higher) for name in strategies}}


def task_block(config: ExperimentConfig, table: Table, strategies: Sequence[str], task_name: str,
               extra: Sequence[str]) -> dict[str, Any]:
    """The task's primary metric (``metric``, ``results``, ``paired``) and the extra metrics that apply to it."""
    task = next(task for task in config.tasks if task.name == task_name)
    block = metric_block(table, strategies, task.name, str(task.metric))
    others = [name for name in extra if name in metrics_for(task.kind) and name != task.metric]
    block["other_metrics"] = {name: metric_block(table, strategies, task.name, name) for name in others}
    return block


def delta_m_block(config: ExperimentConfig, table: Table, strategy: str) -> dict[str, Any]:
    """Δm% on the primary metrics, computed seed by seed against that seed's baseline, then summarised."""
    directions = {task.name: higher_is_better(str(task.metric)) for task in config.tasks}
    values = []
    for mine, base in zip(table[strategy], table[STL], strict=True):
        method = {task.name: metric_value(mine, task.name, str(task.metric)) for task in config.tasks}
        baseline = {task.name: metric_value(base, task.name, str(task.metric)) for task in config.tasks}
        values.append(delta_m(_present(method), _present(baseline), directions))
    return delta_m_summary(values, strategy)


def delta_m_gaps(config: ExperimentConfig, table: Table, strategy: str, seeds: Sequence[int]) -> list[str]:
    """Why a seed whose runs both completed has no Δm%: a primary metric without a value, or a baseline of 0
    (Δm% divides by it). Seeds whose runs did not complete are explained by ``notes`` already."""
    remarks = []
    for seed, mine, base in zip(seeds, table[strategy], table[STL], strict=True):
        if mine is None or base is None or mine.status != "completed" or base.status != "completed":
            continue
        for task in config.tasks:
            metric = str(task.metric)
            ours, theirs = metric_value(mine, task.name, metric), metric_value(base, task.name, metric)
            if ours is None or theirs is None:
                which = strategy if ours is None else "single-task"
                remarks.append(f"{strategy}, seed {seed}: {which} has no test {metric} for {task.name}; "
                               f"left out of Δm%")
                break
            if theirs == 0:
                remarks.append(f"{strategy}, seed {seed}: single-task {metric} of {task.name} is 0, and Δm% divides "
                               f"by it; left out of Δm%")
                break
    return remarks


def _present(values: Mapping[str, float | None]) -> dict[str, float]:
    return {key: value for key, value in values.items() if value is not None}


def notes(config: ExperimentConfig, table: Table, seeds: Sequence[int]) -> list[str]:
    """Plain remarks: runs left out of the statistics and why, and caveats of the baseline."""
    remarks = []
    for method, column in table.items():
        for seed, results in zip(seeds, column, strict=True):
            if results is None:
                remarks.append(f"{method}, seed {seed}: not run (the comparison was stopped); left out")
            elif results.status != "completed":
                reason = f" ({results.reason})" if results.reason else ""
                remarks.append(f"{method}, seed {seed}: {results.status}{reason}; left out of the statistics")
    if config.model.dropout > 0 or config.train.clip_grad_norm is not None:
        remarks.append("single-task baseline: with dropout or train.clip_grad_norm its per-task networks share a "
                       "random stream or a clipping norm, so it is not exactly T separate one-task runs")
    return remarks


def build_summary(config: ExperimentConfig, seeds: Sequence[int], strategies: Sequence[str], extra: Sequence[str],
                  table: Table, stopped: bool = False) -> dict[str, Any]:
    """The comparison's JSON-ready summary (see ``mtl_core.compare.compare`` for its keys)."""
    tasks = {task.name: task_block(config, table, strategies, task.name, extra) for task in config.tasks}
    verdicts = {task: {name: verdict(task, block["metric"], block["higher_is_better"], block["paired"][name], name)
                       for name in strategies} for task, block in tasks.items()}
    return {
        "status": "stopped" if stopped else "completed",
        "seeds": list(seeds), "methods": [STL, *strategies], "strategies": list(strategies), "metrics": list(extra),
        "config": config.to_dict(),
        "tasks": tasks,
        "delta_m_percent": {name: delta_m_block(config, table, name) for name in strategies},
        "verdicts": verdicts,
        "caution": seeds_caution(len(seeds)),
        "notes": [*notes(config, table, seeds),
                  *(remark for name in strategies for remark in delta_m_gaps(config, table, name, seeds))],
        "runs": run_records(table, seeds),
    }
