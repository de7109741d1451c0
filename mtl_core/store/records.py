"""What the run store gives back: plain frozen values built from its rows (no PyTorch)."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

from mtl_core.results import RunResults

StoredStatus: TypeAlias = Literal["running", "completed", "diverged", "stopped", "interrupted", "failed"]
GroupKind: TypeAlias = Literal["compare", "pareto", "study", "sweep"]  # study: the dashboard's comparison and sweep
# in one; sweep: a hyper-parameter sweep (mtl_core.sweep)
TaskMetrics: TypeAlias = dict[str, dict[str, float | None]]  # {task: {metric: value}}
STATUSES: tuple[str, ...] = ("running", "completed", "diverged", "stopped", "interrupted", "failed")

SUMMARY_COLUMNS = ("id, created, finished, status, reason, dataset, tasks, architecture, strategy, epochs_run, "
                   "epochs_planned, duration_s, device, owner, group_id, source, test_metrics, primary_metrics, label")
N_SUMMARY_COLUMNS = SUMMARY_COLUMNS.count(",") + 1


@dataclass(frozen=True, slots=True)
class RunSummary:
    """One line of the run list: what ran, how it ended, its test metrics. Times are Unix seconds (UTC)."""

    id: str
    created: float
    finished: float | None  # None while running
    status: StoredStatus
    reason: str
    dataset: str
    tasks: tuple[str, ...]
    architecture: str
    strategy: str
    epochs_run: int
    epochs_planned: int
    duration_s: float | None
    device: str | None
    owner: str | None  # the browser session that started it; None for the CLI
    group_id: str | None  # the comparison or sweep it belongs to
    source: str  # cli, dashboard, compare, pareto, rerun
    metrics: TaskMetrics = field(default_factory=dict)  # test split
    primary: dict[str, str] = field(default_factory=dict)  # {task: its primary metric}
    label: str | None = None  # the method it stands for in its group: stl, a strategy, swept weights

    @property
    def key_metric(self) -> tuple[str, str, float | None] | None:
        """(task, metric, value) of the first task's primary test metric; None before the run has one."""
        for task, metric in self.primary.items():
            if task in self.metrics:
                return task, metric, self.metrics[task].get(metric)
        return None


@dataclass(frozen=True, slots=True)
class StoredRun:
    """A stored run in full: its summary, config, history so far and, once finished, metrics and predictions."""

    summary: RunSummary
    config: dict[str, Any]  # the resolved ExperimentConfig's to_dict()
    history: list[dict[str, Any]]  # RESULTS.json's history entries, one per epoch written
    metrics: dict[str, TaskMetrics]  # {split: {task: {metric: value}}}
    predictions: dict[str, dict[str, Any]]
    best_epoch: int | None
    best_value: float | None
    run_info: dict[str, Any]  # the RunStarted event's values: sizes, device, strategy
    versions: dict[str, str]  # python, torch, scikit-learn, mtl_core
    dataset_fingerprint: str | None
    artefacts: dict[str, str]  # name -> path of the files in the run's folder
    stored_results: dict[str, Any] | None  # RESULTS.json without history and predictions, once finished

    @property
    def id(self) -> str:
        """The run's id."""
        return self.summary.id

    @property
    def status(self) -> StoredStatus:
        """running, completed, diverged, stopped, interrupted or failed."""
        return self.summary.status

    @property
    def results_dict(self) -> dict[str, Any] | None:
        """The run's RESULTS.json, as ``run --out`` wrote it, once the run finished (else None)."""
        if self.stored_results is None or self.summary.status == "failed":  # a sweep's failed trial keeps its reason
            return None
        return {**self.stored_results, "history": self.history, "predictions": self.predictions}

    def results(self) -> RunResults | None:
        """The run's RunResults once it finished (completed, diverged or stopped), else None."""
        values = self.results_dict
        return None if values is None else RunResults.from_dict(values)


@dataclass(frozen=True, slots=True)
class GroupSummary:
    """A comparison or Pareto sweep: the runs it trained share its id."""

    id: str
    kind: GroupKind
    created: float
    finished: float | None
    status: str  # running, completed, stopped, failed, interrupted
    owner: str | None
    source: str
    n_runs: int


@dataclass(frozen=True, slots=True)
class StoredGroup:
    """A group in full: its summary, the config it started from, the summary it ended with, its runs."""

    summary: GroupSummary
    config: dict[str, Any]
    result: dict[str, Any] | None  # compare's or pareto's JSON summary
    runs: tuple[RunSummary, ...]


def summary_from_row(row: sqlite3.Row | tuple[Any, ...]) -> RunSummary:
    """A RunSummary from a row of ``SUMMARY_COLUMNS``."""
    (run_id, created, finished, status, reason, dataset, tasks, architecture, strategy, epochs_run, planned,
     duration, device, owner, group_id, source, tests, primary, label) = tuple(row)
    return RunSummary(run_id, created, finished, status, reason, dataset, tuple(json.loads(tasks)), architecture,
                      strategy, epochs_run, planned, duration, device, owner, group_id, source, json.loads(tests),
                      json.loads(primary), label)


def history_entry(row: sqlite3.Row | tuple[Any, ...]) -> dict[str, Any]:
    """One epoch row as RESULTS.json's history entry (an EpochEnded event's values, in its key order)."""
    epoch, train_loss, val_loss, weights, metrics, duration, elapsed, extras = tuple(row)
    return {"epoch": epoch, "train_loss": json.loads(train_loss), "val_loss": json.loads(val_loss),
            "weights": json.loads(weights), "metrics": json.loads(metrics), "duration_s": duration,
            "elapsed_s": elapsed, "extras": json.loads(extras)}


HISTORY_COLUMNS = "epoch, train_loss, val_loss, weights, metrics, duration_s, elapsed_s, extras"


def nested_metrics(rows: list[tuple[Any, ...]]) -> dict[str, TaskMetrics]:
    """(split, task, metric, value) rows as {split: {task: {metric: value}}}, "val" and "test" always present."""
    nested: dict[str, TaskMetrics] = {"val": {}, "test": {}}
    for split, task, metric, value in rows:
        nested.setdefault(split, {}).setdefault(task, {})[metric] = value
    return nested
