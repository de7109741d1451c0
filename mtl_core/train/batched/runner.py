"""BatchedTrainer: N runs that differ only in ``train.seed``, trained as one stacked model, epoch by epoch.

Each run (a ``Member``) starts from what its own ``Trainer`` would hold: the Trainer is built for its
config, so the model is drawn from the run's seed, dropout gets the run's generator, the mini-batch order
comes from the run's shuffle generator, and the strategy and the model selection are the run's own.
Then the models' parameters are stacked and one optimiser steps them all: Adam, AdamW and SGD update
each element from that element's gradient and state alone, so one optimiser over the stack is N
optimisers side by side. Per step, each run's strategy weighs that run's row of losses; the scalar
differentiated is Σ_n total_n, whose gradient in model n's slice is model n's own gradient.

A run that diverges, stops early (``train.patience``) or ends leaves the others as they are: it is ended
with the same event its separate run would yield, and its slice no longer joins the loss.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import Tensor

from mtl_core.config import ExperimentConfig
from mtl_core.data import MTLDataset, Split
from mtl_core.train.batched.evaluation import evaluate_stacked, masked_losses
from mtl_core.train.batched.stack import StackedModels
from mtl_core.train.evaluation import evaluate, predictions
from mtl_core.train.events import EpochEnded, Event, RunEnded, RunStarted, Status
from mtl_core.train.optim import make_optimizer
from mtl_core.train.schedule import current_lr, make_scheduler, step_scheduler
from mtl_core.train.trainer import Trainer, cpu_threads
from mtl_core.weighting import LossWeighting, StepContext

Batch = tuple[Tensor, dict[str, Tensor], dict[str, Tensor]]  # features [N, B, ...], targets and masks [N, B]


@dataclass(slots=True)
class Member:
    """One of the runs trained together: its separate Trainer (model, strategy, generators, selection) and
    the state that Trainer would keep during the run."""

    trainer: Trainer
    strategy: LossWeighting
    events: list[Event] = field(default_factory=list)
    running: bool = True
    best_state: dict[str, Tensor] | None = None
    epoch_losses: list[tuple[float, ...]] = field(default_factory=list)
    initial_losses: tuple[float, ...] | None = None
    step: int = 0


@dataclass(slots=True)
class _Tally:
    """Running sums of one epoch for all models (rows of ended models are ignored)."""

    loss_sums: Tensor  # [N, T] float64, Σ loss × labelled rows
    counts: Tensor  # [N, T], labelled rows
    weight_sums: Tensor  # [N, T]
    steps: list[int]  # weighted steps per model


class BatchedTrainer:
    """Trains the runs of ``configs`` (equal but for ``train.seed``, see ``batchable``) as one stacked model."""

    def __init__(self, configs: Sequence[ExperimentConfig], dataset: MTLDataset,
                 should_stop: Callable[[], bool] | None = None) -> None:
        self.config, self.dataset = configs[0], dataset
        self.should_stop = should_stop or (lambda: False)
        self.members = [_member(Trainer(config, dataset)) for config in configs]
        first = self.members[0].trainer
        self.device, self.task_names = first.device, first.task_names
        self.stack = StackedModels([member.trainer.model for member in self.members])
        strategy_parameters = [p for member in self.members for p in member.strategy.parameters()]
        self.optimizer = make_optimizer(self.config.train, self.stack.parameters.values(), strategy_parameters)
        self.scheduler = make_scheduler(self.config.train, self.optimizer, first.lr_watch)

    def run(self) -> list[list[Event]]:
        """Train; the events each run yielded, in the order of ``configs``."""
        with cpu_threads(self.config.train.threads):
            self._run(time.perf_counter())
        return [member.events for member in self.members]

    def _run(self, started: float) -> None:
        train = _on_device(self.dataset.train, self.device)
        for member in self.members:
            member.events.append(self._started(member))
        for epoch in range(1, self.config.train.epochs + 1):
            if not self._running():
                return
            if self.should_stop():
                for index, _ in self._running():
                    self._end(index, "stopped", f"stopped by the user before epoch {epoch}", epoch - 1, started)
                return
            self._epoch(train, epoch, started)
        for index, _ in self._running():
            self._end(index, "completed", "", self.config.train.epochs, started)

    def _running(self) -> list[tuple[int, Member]]:
        return [(index, member) for index, member in enumerate(self.members) if member.running]

    def _started(self, member: Member) -> RunStarted:
        trainer = member.trainer
        member.strategy.reset()
        member.strategy.check_tasks(self.task_names)
        trainer.selection.reset()
        return RunStarted(
            tasks=self.task_names, epochs=self.config.train.epochs, n_train=len(self.dataset.train),
            n_val=len(self.dataset.val), n_test=len(self.dataset.test),
            n_parameters=sum(p.numel() for p in trainer.model.parameters()), device=str(self.device),
            strategy=self.config.strategy.name,
        )

    def _epoch(self, train: Split, epoch: int, started: float) -> None:
        """Train one epoch, validate, and yield each running model's EpochEnded (or its end)."""
        epoch_start = time.perf_counter()
        summaries = self._train_epoch(train, epoch, started)
        lr = current_lr(self.optimizer)  # the rate this epoch trained with, before the schedule steps
        evaluations = evaluate_stacked(self.stack, self.dataset, self.dataset.val, self.device)
        step_scheduler(self.scheduler, None)  # cosine or step: the same rate for every model (plateau is refused)
        now = time.perf_counter()
        for index, member in self._running():
            val_loss, val_metrics = evaluations[index]
            if member.trainer.selection.update(epoch, val_loss, val_metrics):
                member.best_state = self.stack.snapshot(index)
            train_loss, weights = summaries[index]
            member.events.append(EpochEnded(epoch, train_loss, val_loss, weights, val_metrics, now - epoch_start,
                                            now - started, {"lr": lr}))
            if member.trainer.selection.exhausted:
                self._end(index, "completed", member.trainer.selection.stop_reason(), epoch, started)

    def _train_epoch(self, train: Split, epoch: int,
                     started: float) -> dict[int, tuple[dict[str, float], dict[str, float]]]:
        """One pass over the training rows in each model's own order; per running model its mean train loss
        and mean weights. A model whose loss or parameters become nan or inf ends 'diverged'."""
        n_rows, n_models, n_tasks = len(train), len(self.members), len(self.task_names)
        batch = self.config.train.batch_size or n_rows
        orders = None
        if batch < n_rows:
            orders = torch.stack([torch.randperm(n_rows, generator=member.trainer.shuffle)
                                  for member in self.members]).to(self.device)
        zeros = [torch.zeros(n_models, n_tasks, dtype=torch.float64) for _ in range(3)]
        tally = _Tally(zeros[0], zeros[1], zeros[2], [0] * n_models)
        for start in range(0, n_rows, batch):
            rows = orders[:, start:start + batch] if orders is not None else None
            self._step(_batch(train, rows, n_models), epoch, started, tally)
        finite = self.stack.finite()
        summaries = {}
        for index, member in self._running():
            if not finite[index]:
                reason = f"the model's parameters became nan or inf at epoch {epoch}"
                self._end(index, "diverged", reason, epoch - 1, started)
                continue
            means = (tally.loss_sums[index] / tally.counts[index].clamp(min=1)).tolist()
            member.epoch_losses.append(tuple(means))
            steps = tally.steps[index]
            weights = (tally.weight_sums[index] / max(steps, 1)).tolist() if steps else []
            summaries[index] = (dict(zip(self.task_names, means, strict=True)),
                                dict(zip(self.task_names, weights, strict=False)))
        return summaries

    def _step(self, batch: Batch, epoch: int, started: float, tally: _Tally) -> None:
        """One optimisation step of every running model on its own batch."""
        features, targets, masks = batch
        outputs = self.stack.forward(features, training=True)
        losses = masked_losses(outputs, targets, masks, self.dataset.info)  # [N, T]
        values = losses.detach().cpu()
        counts = torch.stack([masks[name].sum(dim=1) for name in self.task_names], dim=1).float().cpu()  # [N, T]
        self._check_finite(values, epoch, started)
        running = self._running()
        if not running:
            return
        self.optimizer.zero_grad(set_to_none=True)
        totals = []
        for index, member in running:
            total, weights = self._combine(member, losses[index], values[index], counts[index], epoch)
            totals.append(total)
            tally.weight_sums[index] += weights.detach().double().cpu()
            tally.steps[index] += 1
        torch.stack(totals).sum().backward()
        if self.config.train.clip_grad_norm is not None:
            self.stack.clip_grad_norm_(self.config.train.clip_grad_norm)
        self.optimizer.step()
        for _, member in running:
            member.strategy.after_step()
            member.step += 1
        tally.loss_sums += values.double() * counts
        tally.counts += counts

    def _combine(self, member: Member, losses: Tensor, values: Tensor, counts: Tensor,
                 epoch: int) -> tuple[Tensor, Tensor]:
        """The run's strategy on the run's losses [T], with the StepContext its Trainer would build."""
        if member.initial_losses is None:
            member.initial_losses = tuple(values.tolist())
        present = tuple(bool(count > 0) for count in counts)
        context = StepContext(epoch, member.step, self.task_names, tuple(member.epoch_losses), member.initial_losses,
                              None, present, None)
        return member.strategy.combine(losses, context)

    def _check_finite(self, values: Tensor, epoch: int, started: float) -> None:
        """End, 'diverged', every running model with a nan or inf loss in this step (as Trainer._check_finite)."""
        bad = (~torch.isfinite(values)).any(dim=1).tolist()
        for index, _ in self._running():
            if bad[index]:
                name, value = next((name, value) for name, value in zip(self.task_names, values[index].tolist(),
                                                                        strict=True) if not np.isfinite(value))
                self._end(index, "diverged", f"loss of task {name!r} became {value} at epoch {epoch}", epoch - 1,
                          started)

    def _end(self, index: int, status: Status, reason: str, epochs_run: int, started: float) -> None:
        """Append run ``index``'s RunEnded: its final evaluation, on its selected weights, as Trainer._ended."""
        member = self.members[index]
        member.running = False
        if status == "diverged":
            member.events.append(RunEnded("diverged", reason, epochs_run, time.perf_counter() - started))
            return
        model = self.stack.unstacked(index, member.best_state)
        test_predictions = predictions(model, self.dataset, self.dataset.test, self.device)
        if not _all_finite(test_predictions):  # the last update overflowed the outputs
            reason = f"the model's outputs became nan or inf after epoch {epochs_run}"
            member.events.append(RunEnded("diverged", reason, epochs_run, time.perf_counter() - started))
            return
        _, val_metrics = evaluate(model, self.dataset, self.dataset.val, self.device)
        _, test_metrics = evaluate(model, self.dataset, self.dataset.test, self.device)
        member.events.append(RunEnded(status, reason, epochs_run, time.perf_counter() - started,
                                      metrics={"val": val_metrics, "test": test_metrics}, predictions=test_predictions))


def _member(trainer: Trainer) -> Member:
    assert isinstance(trainer.strategy, LossWeighting), "batchable admits loss-based strategies only"
    return Member(trainer, trainer.strategy)


def _batch(train: Split, rows: Tensor | None, n_models: int) -> Batch:
    """Each model's batch: the rows ``rows[n]`` (mini-batches), or every training row for every model."""
    if rows is None:
        return (train.features.expand(n_models, *train.features.shape),
                {name: value.expand(n_models, -1) for name, value in train.targets.items()},
                {name: value.expand(n_models, -1) for name, value in train.masks.items()})
    return (train.features[rows], {name: value[rows] for name, value in train.targets.items()},
            {name: value[rows] for name, value in train.masks.items()})


def _all_finite(by_task: dict[str, dict[str, Any]]) -> bool:
    values = [entry.get("proba", entry["pred"]) for entry in by_task.values()]
    return all(bool(np.isfinite(np.asarray(value, dtype=float)).all()) for value in values)


def _on_device(split: Split, device: torch.device) -> Split:
    return Split(features=split.features.to(device),
                 targets={name: value.to(device) for name, value in split.targets.items()},
                 masks={name: value.to(device) for name, value in split.masks.items()}, rows=split.rows)
