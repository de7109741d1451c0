"""One experiment from config to events and results: the function the CLI, jobs and comparisons call."""

from __future__ import annotations

import platform
import time
from collections.abc import Callable, Generator, Iterable
from typing import Any

import torch

from mtl_core.config import ExperimentConfig
from mtl_core.data import DATASETS, MTLDataset, build_dataset, default_tasks, load_data
from mtl_core.models import architecture_params
from mtl_core.train import EpochEnded, Event, RunEnded, RunStarted, Trainer
from mtl_core.weighting import create


def resolve(config: ExperimentConfig) -> ExperimentConfig:
    """The config with the data set's defaults filled in: its tasks when none are given, its task-id column."""
    if not config.tasks:
        config = config.model_copy(update={"tasks": default_tasks(config.data)})
    if config.data.path is None and config.data.task_id_column is None:
        routed_by = DATASETS.get(config.data.source, key="data.dataset").task_id_column
        if routed_by is not None:
            config = config.model_copy(update={"data": config.data.model_copy(update={"task_id_column": routed_by})})
    return config


def prepare(config: ExperimentConfig) -> tuple[ExperimentConfig, MTLDataset]:
    """The resolved config and its MTLDataset (split, preprocessor fitted on train rows)."""
    config = resolve(config)
    create(config.strategy.name, **config.strategy.hparams)  # a bad strategy setting is reported before data loads
    architecture_params(config.model)  # so are the architecture's
    loaded, source = load_data(config.data)
    labels_only = source.label_columns if source is not None else ()
    return config, build_dataset(loaded.table, config.tasks, config.data, config.data.source,
                                 images=loaded.images, label_columns=labels_only)


def run_experiment(config: ExperimentConfig,
                   should_stop: Callable[[], bool] | None = None) -> Generator[Event, None, None]:
    """Events of one training run. Data and settings are checked before the first event is yielded."""
    config, dataset = prepare(config)
    trainer = Trainer(config, dataset, should_stop)
    return trainer.run()


def collect_results(config: ExperimentConfig, events: Iterable[Event],
                    on_event: Callable[[Event], None] | None = None) -> dict[str, Any]:
    """Consume events into the RESULTS.json structure: config, metrics, history, predictions, status."""
    started = time.perf_counter()
    history: list[dict[str, Any]] = []
    run_info: dict[str, Any] = {}
    ended: RunEnded | None = None
    for event in events:
        if on_event is not None:
            on_event(event)
        if isinstance(event, RunStarted):
            run_info = event.to_dict()
        elif isinstance(event, EpochEnded):
            history.append({key: value for key, value in event.to_dict().items() if key != "type"})
        elif isinstance(event, RunEnded):
            ended = event
    assert ended is not None, "a run always ends with RunEnded"
    return {
        "config": resolve(config).to_dict(),
        "status": ended.status,
        "reason": ended.reason,
        "epochs_run": ended.epochs_run,
        "duration_s": time.perf_counter() - started,
        "metrics": ended.metrics or {"val": {}, "test": {}},
        "history": history,
        "predictions": ended.predictions,
        "run": {key: value for key, value in run_info.items() if key != "type"},
        "environment": {"torch": torch.__version__, "python": platform.python_version()},
    }


def run_to_results(config: ExperimentConfig, should_stop: Callable[[], bool] | None = None,
                   on_event: Callable[[Event], None] | None = None) -> dict[str, Any]:
    """Train one experiment and return its results dict."""
    return collect_results(config, run_experiment(config, should_stop), on_event)
