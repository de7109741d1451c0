"""Single-task against multi-task over seeds: the one function a page or the CLI calls."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from mtl_core.compare.report import build_summary, check_tasks
from mtl_core.compare.runs import (
    STL,
    OnRun,
    Progress,
    StopCheck,
    baseline_config,
    check_metrics,
    check_strategies,
    run_methods,
    seed_list,
    strategy_config,
    with_metrics,
)
from mtl_core.config import ExperimentConfig
from mtl_core.experiment import resolve

if TYPE_CHECKING:
    from mtl_core.sweep.backends import Backend

DEFAULT_SEEDS = 5


def compare(config: ExperimentConfig, seeds: int | Sequence[int] = DEFAULT_SEEDS,
            strategies: Sequence[str] | None = None, metrics: Sequence[str] | None = None,
            should_stop: StopCheck | None = None, on_progress: Progress | None = None,
            on_run: OnRun | None = None, backend: Backend | None = None) -> dict[str, Any]:
    """Train each strategy's multi-task model and the single-task baseline over seeds; summarise the test metrics.

    Methods: ``stl``, one run per seed of the config with architecture ``single_task`` (one network per
    task, same trunk settings) and strategy ``equal``; and each strategy on the config's own architecture,
    with the config's hyper-parameters when it is the config's strategy, else the method's defaults
    (default: the config's strategy only). All runs share epochs, optimizer, learning rate and batch size.

    A one-task experiment is refused (ConfigError): it has no multi-task model to compare.

    Seeds are values of ``train.seed`` (N from the config's own, or a list). ``data.split_seed`` stays fixed,
    so every method and seed is scored on the same test rows, and differences can be paired seed by seed.

    Args:
        seeds: how many seeds (counting up from ``train.seed``), or the seeds themselves.
        strategies: the multi-task strategies to compare with the baseline.
        metrics: metrics to report besides each task's primary one (``[[tasks]] metric``; default mse or
            accuracy), for the tasks they apply to.
        should_stop: polled between and during runs; once true, no new run starts and the summary of what
            finished comes back with ``status = "stopped"`` (runs not run are None and noted).
        on_progress: ``on_progress(done_runs, total_runs, label)``, before the first run and after each.
        on_run: ``on_run(method, results)`` after each run (``RunStore.group_recorder`` stores them).

    Returns:
        JSON-ready dict: ``status``, ``seeds``, ``methods``, ``strategies``, ``metrics``, ``config``;
        ``tasks[TASK]``: ``metric``, ``higher_is_better``, ``results[METHOD]`` (``mean``, sample ``std``,
        ``n``, per-seed ``values``), ``paired[STRATEGY]`` (``mean_diff``, ``std_diff``, ``wins``, ``losses``,
        ``n``, ``p_wilcoxon``, ``p_t``, per-seed ``diffs``: strategy − stl), and ``other_metrics[METRIC]`` alike;
        ``delta_m_percent[STRATEGY]``: Δm% computed per seed against that seed's baseline, then summarised
        (``mean``, sample ``std``, ``values``, ``sentence``); ``verdicts[TASK][STRATEGY]``: ``outcome``, ``text``
        and ``weak`` (fewer than 5 pairs); ``caution``: a warning with fewer than 5 seeds, else None; ``notes``; ``runs``: every run's method, seed, status, reason, duration (runs batched together
        share one), test metrics and config. A diverged run is reported in ``runs`` and ``notes`` and left out of the statistics.
    """
    config = resolve(config)
    check_tasks(config)
    seed_values = seed_list(config, seeds)
    names = check_strategies(config, strategies)
    extra = check_metrics(config, metrics)
    config = with_metrics(config, extra)
    groups = {STL: baseline_config(config), **{name: strategy_config(config, name) for name in names}}
    table = run_methods(groups, seed_values, should_stop, on_progress, on_run, backend)
    stopped = any(results is None or results.status == "stopped" for column in table.values() for results in column)
    return build_summary(config, seed_values, names, extra, table, stopped)
