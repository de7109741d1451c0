"""The Pareto front of static loss weights, with the chosen strategies and single-task training beside it.

Does a strategy that sets the weights itself beat a well-chosen fixed weighting? The sweep trains
strategy ``static`` at weights spread over the simplex and places every strategy's result
(mean ± std over the same seeds) on the same axes of per-task test metrics.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from mtl_core.compare.report import metric_block, notes
from mtl_core.compare.runs import (
    STL,
    OnRun,
    Progress,
    StopCheck,
    baseline_config,
    check_strategies,
    run_methods,
    run_records,
    seed_list,
    static_config,
    strategy_config,
    with_metrics,
)
from mtl_core.config import ExperimentConfig
from mtl_core.errors import ConfigError
from mtl_core.experiment import resolve

if TYPE_CHECKING:
    from mtl_core.sweep.backends import Backend
from mtl_core.tasks import higher_is_better

DEFAULT_POINTS, DEFAULT_SEEDS = 7, 3


def sweep_weights(n_tasks: int, points: int) -> list[tuple[float, ...]]:
    """Static weights inside the simplex, scaled to sum to T so that equal weighting (1, …, 1) lies on it.

    Each weight runs over i / m with m = points + 1 and i ≥ 1: a zero weight, which leaves a task
    untrained, is excluded (single-task training is the reference for one task alone). Two tasks give
    ``points`` points along the segment; three a barycentric grid of points·(points − 1)/2. Equal
    weighting is one of them when m is a multiple of T (odd ``points`` for two tasks).

    >>> sweep_weights(2, 3)
    [(0.5, 1.5), (1.0, 1.0), (1.5, 0.5)]
    >>> sweep_weights(3, 2)
    [(1.0, 1.0, 1.0)]
    """
    if n_tasks not in (2, 3):
        raise ConfigError(f"pareto: the config has {n_tasks} task{'s' if n_tasks != 1 else ''}; the weight sweep "
                          f"covers 2 tasks (a segment) or 3 (a grid). Remove tasks with --set, or use compare")
    least = 1 if n_tasks == 2 else 2
    if points < least:
        raise ConfigError(f"points = {points}: give at least {least} for {n_tasks} tasks")
    m = points + 1
    shares = [combo for combo in itertools.product(range(1, m), repeat=n_tasks - 1) if sum(combo) < m]
    return [tuple(n_tasks * share / m for share in (*combo, m - sum(combo))) for combo in shares]


def dominates(a: Sequence[float | None], b: Sequence[float | None], higher: Sequence[bool]) -> bool:
    """Whether ``a`` is at least as good as ``b`` on every task and better on one (direction-aware).

    A point with a missing value neither dominates nor is dominated.
    """
    if None in a or None in b:
        return False
    signs = [1.0 if up else -1.0 for up in higher]
    scored = [(s * float(x or 0.0), s * float(y or 0.0)) for s, x, y in zip(signs, a, b, strict=True)]
    return all(x >= y for x, y in scored) and any(x > y for x, y in scored)


def non_dominated(means: Sequence[Sequence[float | None]], higher: Sequence[bool]) -> list[bool]:
    """For each point of per-task means, whether no other point dominates it (points with a gap: False).

    >>> non_dominated([[0.5, 0.7], [0.4, 0.6], [0.6, 0.7]], [False, True])
    [True, True, False]
    """
    return [None not in point and not any(dominates(other, point, higher) for other in means) for point in means]


def weights_label(weights: Sequence[float]) -> str:
    """The name a swept weighting goes by in summaries and plots.

    >>> weights_label((0.5, 1.5))
    '0.5/1.5'
    """
    return "/".join(f"{weight:.3g}" for weight in weights)


def _means(block: Mapping[str, Any], method: str, tasks: Sequence[str]) -> list[float | None]:
    return [block[task]["results"][method]["mean"] for task in tasks]


def front_summary(config: ExperimentConfig, weights: Sequence[tuple[float, ...]], strategies: Sequence[str],
                  table: Mapping[str, Sequence[Any]], seeds: Sequence[int]) -> dict[str, Any]:
    """The sweep's points (flagged non-dominated), the strategies (with the points dominating them) and stl."""
    names = [task.name for task in config.tasks]
    higher = [higher_is_better(str(task.metric)) for task in config.tasks]
    blocks = {task.name: metric_block(table, [], task.name, str(task.metric)) for task in config.tasks}
    labels = [weights_label(point) for point in weights]
    flags = non_dominated([_means(blocks, label, names) for label in labels], higher)
    points: list[dict[str, Any]] = [
        {"weights": list(point), "label": label, "tasks": {task: blocks[task]["results"][label] for task in names},
         "non_dominated": flag} for point, label, flag in zip(weights, labels, flags, strict=True)]
    return {"tasks": {task: {"metric": blocks[task]["metric"], "higher_is_better": blocks[task]["higher_is_better"]}
                      for task in names},
            "points": points,
            "strategies": {name: _reference(blocks, name, names, labels, higher) for name in strategies},
            "stl": _reference(blocks, STL, names, labels, higher),
            "notes": notes(config, table, seeds), "runs": run_records(table, seeds)}


def _reference(blocks: Mapping[str, Any], method: str, names: Sequence[str], labels: Sequence[str],
               higher: Sequence[bool]) -> dict[str, Any]:
    """A method's per-task summary and the labels of the sweep points that dominate its means."""
    mine = _means(blocks, method, names)
    beaten_by = [label for label in labels if dominates(_means(blocks, label, names), mine, higher)]
    return {"tasks": {task: blocks[task]["results"][method] for task in names}, "dominated_by": beaten_by}


def pareto(config: ExperimentConfig, points: int = DEFAULT_POINTS, seeds: int | Sequence[int] = DEFAULT_SEEDS,
           strategies: Sequence[str] | None = None, on_progress: Progress | None = None,
           should_stop: StopCheck | None = None, on_run: OnRun | None = None,
           backend: Backend | None = None) -> dict[str, Any]:
    """Sweep static loss weights over the simplex (see ``sweep_weights``) and place strategies and stl beside it.

    Every point, strategy and the single-task baseline runs over the same seeds (``train.seed`` values;
    ``data.split_seed`` fixed) and is summarised per task by the mean and sample std of its primary test metric.
    ``on_run(method, results)`` is called after each run (``RunStore.group_recorder`` stores them).

    Returns:
        JSON-ready dict: ``status``, ``seeds``, ``config``, ``tasks[TASK]`` (``metric``, ``higher_is_better``),
        ``points`` (``weights``, ``label``, ``tasks[TASK]`` summary, ``non_dominated`` among the points),
        ``strategies[NAME]`` and ``stl`` (``tasks[TASK]`` summary, ``dominated_by``: labels of sweep points
        better on every task), ``notes`` and ``runs``. A stopped sweep returns what finished, status "stopped".
    """
    config = with_metrics(resolve(config), ())
    weights = sweep_weights(len(config.tasks), points)
    seed_values = seed_list(config, seeds)
    names = check_strategies(config, strategies)
    groups = {STL: baseline_config(config), **{name: strategy_config(config, name) for name in names},
              **{weights_label(point): static_config(config, point) for point in weights}}
    table = run_methods(groups, seed_values, should_stop, on_progress, on_run, backend)
    stopped = any(results is None or results.status == "stopped" for column in table.values() for results in column)
    return {"status": "stopped" if stopped else "completed", "seeds": seed_values, "strategies": names,
            "config": config.to_dict(), **front_summary(config, weights, names, table, seed_values)}
