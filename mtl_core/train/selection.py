"""Model selection on the validation split: the watched value, the best epoch so far, early stopping.

An epoch is better when its value is strictly better, or equal with a lower summed validation loss:
a metric that saturates (an auc of 1.0 from the third epoch on) then keeps selecting the epochs
in which the other tasks still improve, instead of freezing the model at the first perfect epoch.

``Selection`` reads only what an ``EpochEnded`` event carries (validation losses and metrics), so
a consumer that replays a run's events (the results dict, ``train.log``) finds the same best epoch
as the Trainer that restored its weights.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from mtl_core.errors import ConfigError
from mtl_core.tasks import TaskSpec, higher_is_better

VAL_LOSS = "val_loss"  # the sum of the tasks' validation losses


@dataclass(frozen=True, slots=True)
class Watch:
    """One value measured on the validation split after each epoch: a task's metric, or the summed loss."""

    key: str  # "val_loss" or "<task>.<metric>"
    higher_is_better: bool

    def value(self, val_loss: Mapping[str, float], metrics: Mapping[str, Mapping[str, float | None]]) -> float | None:
        """The watched value of one epoch; None when it is undefined (e.g. auc on a single-class split)."""
        if self.key == VAL_LOSS:
            total = sum(val_loss.values()) if val_loss else None
        else:
            task, _, metric = self.key.rpartition(".")
            total = metrics.get(task, {}).get(metric)
        return None if total is None or not math.isfinite(total) else float(total)

    def better(self, value: float, best: float) -> bool:
        """Whether ``value`` is strictly better than ``best``."""
        return value > best if self.higher_is_better else value < best


def select_options(tasks: Iterable[TaskSpec]) -> list[str]:
    """Every value ``train.select`` may name for these tasks: val_loss, then each task's metrics."""
    return [VAL_LOSS, *(f"{task.name}.{metric}" for task in tasks for metric in task.metrics or ())]


def watch_for(select: str | None, tasks: tuple[TaskSpec, ...]) -> Watch | None:
    """The Watch that ``train.select`` names; ConfigError naming the key and listing the options otherwise."""
    if select is None:
        return None
    if select == VAL_LOSS:
        return Watch(VAL_LOSS, higher_is_better=False)
    options = select_options(tasks)
    if select in options:
        return Watch(select, higher_is_better(select.rpartition(".")[2]))
    task_name, _, metric = select.rpartition(".")
    by_name = {task.name: task for task in tasks}
    if task_name not in by_name:
        why = f"there is no task {task_name!r} (tasks: {', '.join(by_name)})"
    else:
        known = ", ".join(by_name[task_name].metrics or ())
        why = f"task {task_name!r} has no metric {metric!r} (its metrics: {known})"
    close = difflib.get_close_matches(select, options, n=1, cutoff=0.6)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise ConfigError(f"train.select = {select!r}: {why}.{hint} Choose one of: {', '.join(options)}")


class Selection:
    """Tracks the best epoch of ``watch`` and, with ``patience``, when to stop.

    >>> selection = Selection(Watch("a.auc", higher_is_better=True), patience=2)
    >>> results = [(0.8, 3.0), (1.0, 2.0), (1.0, 1.5), (0.9, 1.0), (1.0, 1.6)]  # (auc, val loss) per epoch
    >>> [selection.update(epoch, {"a": loss}, {"a": {"auc": auc}}) for epoch, (auc, loss) in enumerate(results, 1)]
    [True, True, True, False, False]
    >>> selection.best_epoch_, selection.best_value_, selection.exhausted
    (3, 1.0, True)
    """

    def __init__(self, watch: Watch | None, patience: int | None = None) -> None:
        self.watch, self.patience = watch, patience
        self.reset()

    def reset(self) -> None:
        """Forget every epoch seen."""
        self.best_epoch_: int | None = None
        self.best_value_: float | None = None
        self.best_loss_: float | None = None  # the summed validation loss of the best epoch: breaks ties
        self.epoch_ = 0

    def update(self, epoch: int, val_loss: Mapping[str, float],
               metrics: Mapping[str, Mapping[str, float | None]]) -> bool:
        """Record one epoch's validation results; True when it is the new best."""
        self.epoch_ = epoch
        if self.watch is None:
            return False
        value, loss = self.watch.value(val_loss, metrics), Watch(VAL_LOSS, False).value(val_loss, metrics)
        if value is None or not self._improves(value, loss):
            return False
        self.best_epoch_, self.best_value_, self.best_loss_ = epoch, value, loss
        return True

    def _improves(self, value: float, loss: float | None) -> bool:
        assert self.watch is not None
        if self.best_value_ is None:
            return True
        if value == self.best_value_:
            return loss is not None and (self.best_loss_ is None or loss < self.best_loss_)
        return self.watch.better(value, self.best_value_)

    @property
    def stale_epochs(self) -> int:
        """Epochs since the best one (since the start when none was best yet)."""
        return self.epoch_ - (self.best_epoch_ or 0)

    @property
    def exhausted(self) -> bool:
        """Whether ``patience`` epochs have passed without improvement."""
        return self.watch is not None and self.patience is not None and self.stale_epochs >= self.patience

    def stop_reason(self) -> str:
        """The RunEnded reason of an early stop."""
        assert self.watch is not None
        return f"early stop: no improvement of {self.watch.key} for {self.stale_epochs} epochs"
