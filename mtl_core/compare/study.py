"""A whole study from one set of runs: the single-task comparison and, for 2 or 3 tasks, the weight sweep.

``compare`` and ``pareto`` each train the single-task baseline and the strategies; a page that shows
both would train them twice. ``study`` trains every method once and builds both summaries from the
same table of results, so the strategies on the Pareto plot are exactly the runs in the comparison.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mtl_core.compare.pareto import front_summary, sweep_weights, weights_label
from mtl_core.compare.report import build_summary, check_tasks
from mtl_core.compare.runs import (
    STL,
    OnRun,
    Progress,
    StopCheck,
    baseline_config,
    check_strategies,
    run_methods,
    seed_list,
    static_config,
    strategy_config,
    with_metrics,
)
from mtl_core.config import ExperimentConfig
from mtl_core.experiment import resolve


def study_runs(config: ExperimentConfig, seeds: int | Sequence[int], strategies: Sequence[str] | None,
               points: int | None) -> int:
    """How many models ``study`` trains (for a progress bar before it starts); a one-task experiment is refused."""
    config = resolve(config)
    check_tasks(config)
    methods = 1 + len(check_strategies(config, strategies)) + len(_weights(config, points))
    return methods * len(seed_list(config, seeds))


def study(config: ExperimentConfig, seeds: int | Sequence[int] = 5, strategies: Sequence[str] | None = None,
          points: int | None = None, should_stop: StopCheck | None = None,
          on_progress: Progress | None = None, on_run: OnRun | None = None) -> dict[str, Any]:
    """``{"comparison": <compare's summary>, "pareto": <pareto's summary or None>}`` from one set of runs.

    ``points`` static weightings are swept when given and the config has 2 or 3 tasks; otherwise
    ``pareto`` is None. A stopped study returns what finished, as ``compare`` and ``pareto`` do.
    ``on_run(method, results)`` is called after each run (``RunStore.group_recorder`` stores them).
    """
    config = with_metrics(resolve(config), ())
    check_tasks(config)
    seed_values = seed_list(config, seeds)
    names = check_strategies(config, strategies)
    weights = _weights(config, points)
    groups = {STL: baseline_config(config), **{name: strategy_config(config, name) for name in names},
              **{weights_label(point): static_config(config, point) for point in weights}}
    table = run_methods(groups, seed_values, should_stop, on_progress, on_run)
    stopped = any(results is None or results.status == "stopped" for column in table.values() for results in column)
    status = "stopped" if stopped else "completed"
    chosen = {method: table[method] for method in (STL, *names)}
    front = None
    if weights:
        front = {"status": status, "seeds": seed_values, "strategies": names, "config": config.to_dict(),
                 **front_summary(config, weights, names, table, seed_values)}
    return {"comparison": build_summary(config, seed_values, names, (), chosen, stopped), "pareto": front}


def _weights(config: ExperimentConfig, points: int | None) -> list[tuple[float, ...]]:
    """The sweep's weights, or none when no sweep is asked for or the task count does not allow one."""
    return sweep_weights(len(config.tasks), points) if points and len(config.tasks) in (2, 3) else []
