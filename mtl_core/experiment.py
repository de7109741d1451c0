"""One experiment from config to events and results: the pipeline (``prepare`` → ``Trainer`` → ``collect_results``)
that the CLI, jobs and comparisons call, for one run (``Experiment``, ``run_to_results``) or for runs that differ
only in ``train.seed``, trained together (``run_together``)."""

from __future__ import annotations

import platform
import time
from dataclasses import replace
from collections.abc import Callable, Generator, Iterable, Mapping, Sequence
from typing import Any

import pandas as pd
import torch

from mtl_core.config import ExperimentConfig
from mtl_core.data import DATASETS, MTLDataset, build_dataset, default_tasks, load_data
from mtl_core.errors import ConfigError
from mtl_core.models import MTLModel, architecture_params
from mtl_core.results import RunResults
from mtl_core.train import EpochEnded, Event, RunEnded, RunStarted, Trainer, together_reason, train_together
from mtl_core.train.device import available_devices
from mtl_core.train.selection import Selection, watch_for
from mtl_core.weighting import create

__all__ = [
    "Experiment", "RunResults", "available_devices", "check", "collect_results", "predictions_frame", "prepare",
    "replay_selection", "resolve", "run_experiment", "run_to_results", "run_together", "together_reason",
]


def resolve(config: ExperimentConfig) -> ExperimentConfig:
    """The config with the data set's defaults filled in: its tasks when none are given, its task-id column."""
    if not config.tasks:
        config = config.model_copy(update={"tasks": default_tasks(config.data)})
    if config.data.path is None and config.data.task_id_column is None:
        routed_by = DATASETS.get(config.data.source, key="data.dataset").task_id_column
        if routed_by is not None:
            config = config.model_copy(update={"data": config.data.model_copy(update={"task_id_column": routed_by})})
    return config


def check(config: ExperimentConfig) -> ExperimentConfig:
    """The resolved config once its settings are checked without loading data (a shared server's queue does
    this at submit, so a bad setting is reported at once; the data is loaded when the run starts)."""
    config = resolve(config)
    create(config.strategy.name, **config.strategy.hparams)
    architecture_params(config.model)
    watch_for(config.train.select, config.tasks)
    return config


def prepare(config: ExperimentConfig) -> tuple[ExperimentConfig, MTLDataset]:
    """The resolved config and its MTLDataset (split, preprocessor fitted on train rows)."""
    config = check(config)  # a bad setting is reported before data loads
    loaded, source = load_data(config.data)
    labels_only = source.label_columns if source is not None else ()
    return config, build_dataset(loaded.table, config.tasks, config.data, config.data.source,
                                 images=loaded.images, label_columns=labels_only)


class Experiment:
    """One experiment ready to train: its resolved config, its data set and its Trainer.

    Data and settings are checked when it is built (``prepare``); ``events()`` trains it, once, and
    ``results()`` trains it into the results dict. ``model`` is the evaluated model once the run has ended
    (the selected epoch's weights with ``train.select``).
    """

    def __init__(self, config: ExperimentConfig, should_stop: Callable[[], bool | str] | None = None) -> None:
        self.config, self.dataset = prepare(config)
        self.trainer = Trainer(self.config, self.dataset, should_stop)

    @property
    def model(self) -> MTLModel:
        """The run's model."""
        return self.trainer.model

    def events(self) -> Generator[Event, None, None]:
        """The run's events: RunStarted, one EpochEnded per epoch, RunEnded."""
        return self.trainer.run()

    def results(self, on_event: Callable[[Event], None] | None = None) -> RunResults:
        """Train and return the results (``collect_results``), passing each event to ``on_event``."""
        return collect_results(self.config, self.events(), on_event)


def run_experiment(config: ExperimentConfig,
                   should_stop: Callable[[], bool | str] | None = None) -> Generator[Event, None, None]:
    """Events of one training run. Data and settings are checked before the first event is yielded."""
    return Experiment(config, should_stop).events()


def run_together(configs: Sequence[ExperimentConfig],
                 should_stop: Callable[[], bool | str] | None = None) -> list[RunResults]:
    """Train runs that differ only in ``train.seed`` together; one RunResults per config, in order, with the
    numbers ``run_to_results`` gives for each.

    The data set is loaded and preprocessed once; each result's ``duration_s`` is the wall time of the shared
    training. ``should_stop`` is asked before each epoch and stops every run. Raises ConfigError (with the
    reason) when ``together_reason(configs)`` refuses them; run those one by one with ``run_to_results``.
    """
    if not configs:
        return []
    reason = together_reason(configs)
    if reason is not None:
        raise ConfigError(f"these {len(configs)} runs cannot train together: {reason}. "
                          f"Run them one by one (mtl_core.experiment.run_to_results)")
    _, dataset = prepare(configs[0])  # the runs share data and split
    started = time.perf_counter()
    histories = train_together([Trainer(resolve(config), dataset) for config in configs], should_stop)
    duration = time.perf_counter() - started
    return [replace(collect_results(config, events), duration_s=duration)
            for config, events in zip(configs, histories, strict=True)]


def collect_results(config: ExperimentConfig, events: Iterable[Event],
                    on_event: Callable[[Event], None] | None = None) -> RunResults:
    """Consume events into a run's results (RESULTS.json: ``to_dict()``): config, metrics, history, predictions,
    status.

    ``best_epoch`` and ``best_value`` (None without ``train.select``) come from replaying the
    history through the Selection the Trainer used, so they name the epoch whose weights were
    evaluated (a diverged run evaluates none, but still reports its best validation epoch).
    """
    started = time.perf_counter()
    resolved = resolve(config)
    history: list[dict[str, Any]] = []
    diagnostics: list[dict[str, Any]] = []  # train.diagnostics: kept beside the history, not in it
    run_info: dict[str, Any] = {}
    ended: RunEnded | None = None
    for event in events:
        if on_event is not None:
            on_event(event)
        if isinstance(event, RunStarted):
            run_info = event.to_dict()
        elif isinstance(event, EpochEnded):
            history.append({key: value for key, value in event.to_dict().items() if key not in ("type", "diagnostics")})
            if event.diagnostics is not None:
                diagnostics.append(event.diagnostics)
        elif isinstance(event, RunEnded):
            ended = event
    assert ended is not None, "a run always ends with RunEnded"
    selection = replay_selection(resolved, history)
    return RunResults(
        config=resolved.to_dict(),
        status=ended.status,
        reason=ended.reason,
        epochs_run=ended.epochs_run,
        duration_s=time.perf_counter() - started,
        metrics=ended.metrics or {"val": {}, "test": {}},
        history=history,
        predictions=ended.predictions,
        best_epoch=selection.best_epoch_,
        best_value=selection.best_value_,
        run={key: value for key, value in run_info.items() if key != "type"},
        environment={"torch": torch.__version__, "python": platform.python_version()},
        diagnostics=diagnostics,
    )


def replay_selection(config: ExperimentConfig, history: Iterable[dict[str, Any]]) -> Selection:
    """The Trainer's Selection fed the same per-epoch validation results: it finds the same best epoch."""
    selection = Selection(watch_for(config.train.select, config.tasks))
    for entry in history:
        selection.update(entry["epoch"], entry["val_loss"], entry["metrics"])
    return selection


def run_to_results(config: ExperimentConfig, should_stop: Callable[[], bool | str] | None = None,
                   on_event: Callable[[Event], None] | None = None) -> RunResults:
    """Train one experiment and return its results."""
    return Experiment(config, should_stop).results(on_event)


def predictions_frame(results: Mapping[str, Any]) -> pd.DataFrame:
    """The test predictions of a results dict as one long table: task, row, true, predicted (and probabilities).

    >>> predictions_frame({"predictions": {"y": {"row": [3], "true": [1.5], "pred": [1.25]}}}).to_dict("records")
    [{'task': 'y', 'row': 3, 'true': 1.5, 'predicted': 1.25}]
    """
    frames = []
    for task, entry in results.get("predictions", {}).items():
        frame = pd.DataFrame({"task": task, "row": entry["row"], "true": entry["true"], "predicted": entry["pred"]})
        proba = entry.get("proba")
        if proba is not None and entry.get("classes") is not None:
            columns = entry["classes"] if len(entry["classes"]) > 2 else [entry["classes"][-1]]
            values = proba if len(columns) > 1 else [[value] for value in proba]
            frame = frame.join(pd.DataFrame(values, columns=[f"p({name})" for name in columns]))
        frames.append(frame)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["task", "row", "true", "predicted"])
