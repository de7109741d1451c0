"""The runs of a comparison: one config per method and seed, run group by group.

A comparison trains every method on the same seeds. Seeds are values of ``train.seed`` (the
initialisation, batch order and any randomness of a strategy); ``data.split_seed`` stays fixed,
so every method and seed is scored on the same test rows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

from mtl_core.config import ExperimentConfig, ModelConfig
from mtl_core.errors import ConfigError
from mtl_core.experiment import run_to_results, run_together, together_reason
from mtl_core.models import ARCHITECTURES
from mtl_core.results import RunResults
from mtl_core.settings import hparam_names
from mtl_core.tasks import metrics_for
from mtl_core.weighting import STRATEGIES, create

if TYPE_CHECKING:
    from mtl_core.sweep.backends import Backend

STL = "stl"  # the single-task baseline's name among the methods
BASELINE_ARCHITECTURE = "single_task"
Results: TypeAlias = RunResults  # what run_to_results returns
Progress: TypeAlias = Callable[[int, int, str], None]  # (done runs, total runs, label of the last one)
StopCheck: TypeAlias = Callable[[], bool]
OnRun: TypeAlias = Callable[[str, Results], None]  # (method, results) as each run ends: e.g. to store it


def seed_list(config: ExperimentConfig, seeds: int | Sequence[int]) -> list[int]:
    """The ``train.seed`` values to run: N seeds from the config's own, or the given list.

    >>> seed_list(ExperimentConfig.from_dict({"train": {"seed": 3}}), 4)
    [3, 4, 5, 6]
    """
    if isinstance(seeds, int):
        if seeds < 1:
            raise ConfigError(f"seeds = {seeds}: give at least 1 seed (5 or more to tell methods apart)")
        return list(range(config.train.seed, config.train.seed + seeds))
    values = [int(seed) for seed in seeds]
    if not values or any(seed < 0 for seed in values) or len(set(values)) != len(values):
        raise ConfigError(f"seeds = {values}: give one or more distinct seeds, each 0 or above")
    return values


def check_strategies(config: ExperimentConfig, names: Sequence[str] | None) -> list[str]:
    """The strategies to compare (default: the config's own), each checked by building it.

    Unknown names raise UnknownNameError with the closest names; bad hyper-parameters of the
    config's own strategy raise ConfigError, before anything trains.
    """
    chosen = list(dict.fromkeys(name.strip() for name in names)) if names else [config.strategy.name]
    if not chosen or "" in chosen:
        raise ConfigError(f"strategies = {list(names or [])}: give strategy names separated by commas, "
                          f"e.g. equal,pcgrad")
    for name in chosen:
        STRATEGIES.get(name, key="strategies")
        create(name, **strategy_config(config, name).strategy.hparams)
    return chosen


def check_metrics(config: ExperimentConfig, names: Sequence[str] | None) -> list[str]:
    """The extra metrics asked for, each applying to at least one task; ConfigError otherwise."""
    chosen = list(dict.fromkeys(name.strip() for name in names or ()))
    for name in chosen:
        if not any(name in metrics_for(task.kind) for task in config.tasks):
            kinds = ", ".join(sorted({task.kind for task in config.tasks}))
            known = sorted({metric for task in config.tasks for metric in metrics_for(task.kind)})
            raise ConfigError(f"metrics: {name!r} applies to none of the tasks ({kinds}); "
                              f"use one of: {', '.join(known)}")
    return chosen


def with_metrics(config: ExperimentConfig, extra: Sequence[str]) -> ExperimentConfig:
    """The config whose tasks also compute their primary metric and the extra ones that apply to them.

    Tasks that already compute them are left unchanged, so the runs equal plain ``run`` calls.
    """
    tasks = []
    for task in config.tasks:
        wanted = [task.metric, *(name for name in extra if name in metrics_for(task.kind))]
        missing = [name for name in wanted if name not in (task.metrics or ())]
        tasks.append(task.model_copy(update={"metrics": (*(task.metrics or ()), *dict.fromkeys(missing))})
                     if missing else task)
    return config.model_copy(update={"tasks": tuple(tasks)})


def strategy_config(config: ExperimentConfig, name: str) -> ExperimentConfig:
    """The multi-task config with strategy ``name``: the config's hyper-parameters when it is the config's own
    strategy, else the method's defaults."""
    if name == config.strategy.name:
        return config
    return _replaced(config, strategy={"name": name})


def static_config(config: ExperimentConfig, weights: Sequence[float]) -> ExperimentConfig:
    """The multi-task config with fixed loss weights (strategy ``static``)."""
    return _replaced(config, strategy={"name": "static", "weights": [float(weight) for weight in weights]})


def baseline_config(config: ExperimentConfig) -> ExperimentConfig:
    """The single-task baseline: architecture ``single_task`` (one independent network per task, with the
    config's trunk settings), strategy ``equal``; data, tasks and training settings unchanged.

    Settings of the config's architecture that ``single_task`` does not take (mmoe's ``n_experts``) are dropped.
    """
    accepted = set(ModelConfig.model_fields) | set(hparam_names(ARCHITECTURES.get(BASELINE_ARCHITECTURE)))
    model = {key: value for key, value in config.model.model_dump(mode="json").items() if key in accepted}
    return _replaced(config, model={**model, "architecture": BASELINE_ARCHITECTURE}, strategy={"name": "equal"})


def with_seed(config: ExperimentConfig, seed: int) -> ExperimentConfig:
    """The config with ``train.seed = seed``."""
    return config.model_copy(update={"train": config.train.model_copy(update={"seed": seed})})


def _replaced(config: ExperimentConfig, **sections: dict[str, Any]) -> ExperimentConfig:
    """The config with whole sections replaced, validated again."""
    return ExperimentConfig.from_dict({**config.to_dict(), **sections})


def run_group(configs: Sequence[ExperimentConfig], should_stop: StopCheck | None = None,
              on_result: Callable[[Results], None] | None = None) -> list[Results]:
    """Train configs that differ only in ``train.seed``; one results dict per config, in order.

    The group trains together in one loop (``run_together``) where ``together_reason`` allows it;
    otherwise the configs run one by one with ``run_to_results``. Once ``should_stop()`` is true no
    new run starts (a run under way ends "stopped"), so fewer results than configs may come back.
    Runs trained together report the wall time of their shared pass as ``duration_s``.
    """
    if should_stop is not None and should_stop():
        return []
    if len(configs) > 1 and together_reason(configs) is None:
        results: list[Results] = list(run_together(configs, should_stop))
        for result in results:
            if on_result is not None:
                on_result(result)
        return results
    return _run_one_by_one(configs, should_stop, on_result)


def _run_one_by_one(configs: Sequence[ExperimentConfig], should_stop: StopCheck | None,
                    on_result: Callable[[Results], None] | None) -> list[Results]:
    results: list[Results] = []
    for config in configs:
        if should_stop is not None and should_stop():
            break
        results.append(run_to_results(config, should_stop))
        if on_result is not None:
            on_result(results[-1])
    return results


def run_methods(groups: Mapping[str, ExperimentConfig], seeds: Sequence[int], should_stop: StopCheck | None = None,
                on_progress: Progress | None = None, on_run: OnRun | None = None,
                backend: Backend | None = None) -> dict[str, list[Results | None]]:
    """Each method's config over every seed: method -> results per seed (None where no run happened).

    ``on_progress(done, total, label)`` is called once before the first run and after each run;
    ``on_run(method, results)`` after each run too (a group trained together reports its runs as it ends).
    With a ``backend`` (``mtl_core.sweep``), every (method, seed) run trains on it, as many at once as it allows,
    with the numbers the runs have here.
    """
    total, done = len(groups) * len(seeds), 0
    table: dict[str, list[Results | None]] = {}
    if on_progress is not None:
        on_progress(0, total, "starting")
    if backend is not None:
        return _run_on_backend(groups, seeds, backend, should_stop, on_progress, on_run)

    for method, config in groups.items():
        def report(results: Results, method: str = method) -> None:
            nonlocal done
            done += 1
            if on_run is not None:
                on_run(method, results)
            if on_progress is not None:
                on_progress(done, total, f"{method}, seed {results['config']['train']['seed']}: {results['status']}")

        stopped = should_stop is not None and should_stop()
        results = [] if stopped else run_group([with_seed(config, seed) for seed in seeds], should_stop, report)
        table[method] = [*results, *[None] * (len(seeds) - len(results))]
    return table


def _run_on_backend(groups: Mapping[str, ExperimentConfig], seeds: Sequence[int], backend: Backend,
                    should_stop: StopCheck | None, on_progress: Progress | None,
                    on_run: OnRun | None) -> dict[str, list[Results | None]]:
    """``run_methods`` on a backend: one task per (method, seed); a run that fails twice is a SweepError."""
    from mtl_core.sweep.backends import Outcome, SweepError, Task

    table: dict[str, list[Results | None]] = {method: [None] * len(seeds) for method in groups}
    keys = {f"{m}|{i}": (method, i) for m, method in enumerate(groups) for i in range(len(seeds))}
    tasks = [Task(key, with_seed(groups[method], seeds[i]).to_dict()) for key, (method, i) in keys.items()]
    done = 0

    def record(outcome: Outcome) -> None:
        nonlocal done
        method, i = keys[outcome.key]
        if outcome.results is None:
            raise SweepError(f"the {method} run of seed {seeds[i]} failed twice on the {backend.name} backend: "
                             f"{outcome.reason}")
        results = table[method][i] = RunResults.from_dict(outcome.results)
        done += 1
        if on_run is not None:
            on_run(method, results)
        if on_progress is not None:
            on_progress(done, len(tasks), f"{method}, seed {seeds[i]}: {results.status}")

    backend.run(tasks, record, should_stop)
    return table


def run_records(table: Mapping[str, Sequence[Results | None]], seeds: Sequence[int]) -> list[dict[str, Any]]:
    """One entry per run that happened: method, seed, status, reason, duration, test metrics and the config."""
    return [{"method": method, "seed": seed, "status": results.status, "reason": results.reason,
             "duration_s": results.duration_s, "epochs_run": results.epochs_run,
             "test": results.metrics.get("test", {}), "config": results.config}
            for method, column in table.items() for seed, results in zip(seeds, column, strict=True)
            if results is not None]

