"""Events the Trainer yields: frozen plain values that consumers (CLI, store, UI) read."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal, TypeAlias

Status: TypeAlias = Literal["completed", "diverged", "stopped"]
TaskMetrics: TypeAlias = dict[str, dict[str, float | None]]  # {task: {metric: value}}


@dataclass(frozen=True, slots=True)
class RunStarted:
    """Training is about to begin."""

    tasks: tuple[str, ...]
    epochs: int
    n_train: int
    n_val: int
    n_test: int
    n_parameters: int
    device: str
    strategy: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready values with the event's type."""
        return {"type": "run_started", **asdict(self)}


@dataclass(frozen=True, slots=True)
class EpochEnded:
    """One epoch is done: mean train loss per task, val loss and metrics, the weights used."""

    epoch: int  # 1-based
    train_loss: dict[str, float]
    val_loss: dict[str, float]  # empty when there are no validation rows
    weights: dict[str, float]  # mean weight per task over the epoch's steps; empty when the method has none
    metrics: TaskMetrics  # validation metrics
    duration_s: float
    elapsed_s: float
    extras: dict[str, float] = field(default_factory=dict)  # e.g. the soft-sharing regulariser's mean value
    # train.diagnostics: the epoch's gradient conflict record (mtl_core.train.diagnostics); None when off
    diagnostics: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready values with the event's type."""
        return {"type": "epoch_ended", **asdict(self)}


@dataclass(frozen=True, slots=True)
class RunEnded:
    """The run is over: how it ended, why, and (when it completed or was stopped) its final evaluation."""

    status: Status
    reason: str
    epochs_run: int
    duration_s: float
    metrics: dict[str, TaskMetrics] = field(default_factory=dict)  # {"val": ..., "test": ...}
    predictions: dict[str, dict[str, Any]] = field(default_factory=dict)  # test split, per task

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready values with the event's type."""
        return {"type": "run_ended", **asdict(self)}


Event: TypeAlias = RunStarted | EpochEnded | RunEnded
