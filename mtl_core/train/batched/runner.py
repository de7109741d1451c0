"""BatchedTrainer: N runs that differ only in ``train.seed``, trained in lockstep on one stacked set of parameters.

Each run (a ``Member``) starts from what its own ``Trainer`` holds: the Trainer is built for its config, so
the model is drawn from the run's seed, dropout gets the run's generator, the mini-batch order comes from
the run's shuffle generator, and the strategy and the model selection are the run's own. Then the models'
parameters are stacked (``ParameterStack``) and one optimiser steps them all. Per step, each run's strategy
weighs that run's losses with the StepContext its Trainer would build; loss-based totals are summed into one
backward pass (model n's gradient depends on total_n only). The data are loaded once, the mini-batch orders
drawn per run, and each epoch's validation metrics computed for all runs at once.

A run that diverges, stops early (``train.patience``) or ends leaves the others as they are: it is ended
with the event its separate run would yield, and no longer joins the steps.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import torch
from torch import Tensor

from mtl_core.config import ExperimentConfig
from mtl_core.data import MTLDataset, Split
from mtl_core.train.batched.engines import EngineName, StepLosses, make_engine, model_outputs
from mtl_core.train.batched.evaluation import Outputs, score
from mtl_core.train.batched.stack import ParameterStack
from mtl_core.train.evaluation import predictions
from mtl_core.train.events import EpochEnded, Event, RunEnded, RunStarted, Status
from mtl_core.train.optim import make_optimizer
from mtl_core.train.schedule import current_lr, make_scheduler, step_scheduler
from mtl_core.train.step import gradient_based_grads
from mtl_core.train.trainer import Trainer, cpu_threads
from mtl_core.weighting import GradientStrategy, LossWeighting, StepContext, gradient_norms


@dataclass(slots=True)
class Member:
    """One of the runs trained together: its Trainer (model, strategy, generators, selection) and the state
    that Trainer keeps during a run, with this epoch's sums."""

    trainer: Trainer
    events: list[Event] = field(default_factory=list)
    running: bool = True
    best_state: dict[str, Tensor] | None = None
    epoch_losses: list[tuple[float, ...]] = field(default_factory=list)
    initial_losses: tuple[float, ...] | None = None
    step: int = 0
    weight_sums: Tensor | None = None  # [T] float64, this epoch
    weighted_steps: int = 0
    penalty_sum: float = 0.0
    penalty_steps: int = 0


class BatchedTrainer:
    """Trains the runs of ``configs`` (equal but for ``train.seed``, see ``batchable``) together."""

    def __init__(self, configs: Sequence[ExperimentConfig], dataset: MTLDataset,
                 should_stop: Callable[[], bool] | None = None, engine: EngineName = "exact") -> None:
        self.config, self.dataset = configs[0], dataset
        self.should_stop = should_stop or (lambda: False)
        self.members = [Member(Trainer(config, dataset)) for config in configs]
        first = self.members[0].trainer
        self.device, self.task_names, self.in_representation = first.device, first.task_names, first.in_representation
        self.stack = ParameterStack([member.trainer.model for member in self.members])
        self.engine = make_engine(engine, self.stack, dataset, self.device)
        self.modules = [list(member.trainer.model.modules()) for member in self.members]
        extra = [p for member in self.members for p in member.trainer.strategy.parameters()]
        self.optimizer = make_optimizer(self.config.train, self.stack.parameters.values(), extra)
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
                reason = f"stopped by the user before epoch {epoch}"
                self._finish([(index, "stopped", reason, epoch - 1) for index in self._running()], started)
                return
            self._epoch(train, epoch, started)
        self._finish([(index, "completed", "", self.config.train.epochs) for index in self._running()], started)

    def _running(self) -> list[int]:
        return [index for index, member in enumerate(self.members) if member.running]

    def _started(self, member: Member) -> RunStarted:
        trainer = member.trainer
        trainer.strategy.reset()
        trainer.strategy.check_tasks(self.task_names)
        trainer.selection.reset()
        return RunStarted(
            tasks=self.task_names, epochs=self.config.train.epochs, n_train=len(self.dataset.train),
            n_val=len(self.dataset.val), n_test=len(self.dataset.test),
            n_parameters=sum(p.numel() for p in trainer.model.parameters()), device=str(self.device),
            strategy=self.config.strategy.name,
        )

    def _epoch(self, train: Split, epoch: int, started: float) -> None:
        """Train one epoch, validate, and append each running model's EpochEnded (or its end)."""
        epoch_start = time.perf_counter()
        summaries = self._train_epoch(train, epoch, started)
        lr = current_lr(self.optimizer)  # the rate this epoch trained with, before the schedule steps
        running = self._running()
        evaluations = score(self.dataset, self.dataset.val, self.engine.outputs(self.dataset.val, running))
        step_scheduler(self.scheduler, None)  # cosine or step: the same rate for every run (plateau is refused)
        now = time.perf_counter()
        stopping: list[tuple[int, Status, str, int]] = []
        for index in running:
            member, (val_loss, val_metrics) = self.members[index], evaluations[index]
            if member.trainer.selection.update(epoch, val_loss, val_metrics):
                member.best_state = self.stack.snapshot(index)
            train_loss, weights, extras = summaries[index]
            member.events.append(EpochEnded(epoch, train_loss, val_loss, weights, val_metrics, now - epoch_start,
                                            now - started, {"lr": lr, **extras}))
            if member.trainer.selection.exhausted:
                stopping.append((index, "completed", member.trainer.selection.stop_reason(), epoch))
        self._finish(stopping, started)

    def _train_epoch(self, train: Split, epoch: int, started: float) -> dict[int, tuple[dict[str, float], ...]]:
        """One pass over the training rows in each run's own order; per running run its mean train loss,
        mean weights and extras. A run whose loss or parameters become nan or inf ends 'diverged'."""
        self.engine.train()
        n_rows, n_tasks = len(train), len(self.task_names)
        batch = self.config.train.batch_size or n_rows
        orders = None
        if batch < n_rows:
            orders = [torch.randperm(n_rows, generator=member.trainer.shuffle).to(self.device)
                      for member in self.members]
        loss_sums, counts = (torch.zeros(len(self.members), n_tasks, dtype=torch.float64) for _ in range(2))
        for member in self.members:
            member.weight_sums, member.weighted_steps = torch.zeros(n_tasks, dtype=torch.float64), 0
            member.penalty_sum, member.penalty_steps = 0.0, 0
        for start in range(0, n_rows, batch):
            if n_rows - start == 1 and start > 0 and self.members[0].trainer.has_batch_norm:
                break  # batch norm cannot normalise a single row: that last row waits for the next epoch
            step = self.engine.losses(train, orders, start, batch, self._running(), self.in_representation)
            if self._step(step, epoch, started):
                loss_sums += step.values.double() * step.counts
                counts += step.counts
        finite = self.stack.finite()
        summaries = {}
        for index in self._running():
            if not finite[index]:
                self._diverge(index, f"the model's parameters became nan or inf at epoch {epoch}", epoch - 1, started)
                continue
            means = (loss_sums[index] / counts[index].clamp(min=1)).tolist()
            summaries[index] = self._summary(self.members[index], means)
        return summaries

    def _summary(self, member: Member, means: list[float]) -> tuple[dict[str, float], ...]:
        member.epoch_losses.append(tuple(means))
        assert member.weight_sums is not None
        steps = member.weighted_steps
        weights = (member.weight_sums / max(steps, 1)).tolist() if steps else []
        extras = {"regularizer": member.penalty_sum / member.penalty_steps} if member.penalty_steps else {}
        return (dict(zip(self.task_names, means, strict=True)), dict(zip(self.task_names, weights, strict=False)),
                extras)

    def _step(self, step: StepLosses, epoch: int, started: float) -> bool:
        """One optimisation step of every running run on its own batch; False when none is left to step."""
        self._check_finite(step.values, epoch, started)
        running = self._running()
        if not running:
            return False
        self.optimizer.zero_grad(set_to_none=True)
        for index in running:
            member = self.members[index]
            if member.initial_losses is None:
                member.initial_losses = tuple(step.values[index].tolist())
        if isinstance(self.members[0].trainer.strategy, LossWeighting):
            self._loss_based(step, running, epoch)
        else:
            self._gradient_based(step, running)
        self._penalties(running)
        self.engine.finish_gradients(running, self.config.train.clip_grad_norm)
        self.optimizer.step()
        for index in running:
            self.members[index].trainer.strategy.after_step()
            self.members[index].step += 1
        return True

    def _loss_based(self, step: StepLosses, running: list[int], epoch: int) -> None:
        """Each run's strategy on its losses; one backward pass of Σ_n total_n."""
        totals = []
        for index in running:
            member = self.members[index]
            strategy = member.trainer.strategy
            assert isinstance(strategy, LossWeighting)
            present = tuple(bool(count > 0) for count in step.counts[index])
            total, weights = strategy.combine(step.losses[index], self._context(member, step.losses[index], epoch,
                                                                                present))
            totals.append(total)
            self._add_weights(member, weights)
        torch.stack(totals).sum().backward()

    def _gradient_based(self, step: StepLosses, running: list[int]) -> None:
        """Each run's gradient strategy on its own task gradients, as its Trainer's step (full batches only)."""
        for index in running:
            trainer = self.members[index].trainer
            assert isinstance(trainer.strategy, GradientStrategy)
            present = tuple(bool(count > 0) for count in step.counts[index])
            weights = gradient_based_grads(trainer.strategy, step.losses[index], present, trainer.shared,
                                           trainer.heads, step.representations[index])
            if weights is not None:
                self._add_weights(self.members[index], weights)

    def _penalties(self, running: list[int]) -> None:
        """The models' regularisers (soft sharing): their gradients join the tasks', their values the extras."""
        penalties = {index: self.members[index].trainer.model.regularizer() for index in running}
        given = {index: penalty for index, penalty in penalties.items() if penalty is not None}
        if not given:
            return
        torch.stack(list(given.values())).sum().backward()
        for index, penalty in given.items():
            self.members[index].penalty_sum += float(penalty.detach())
            self.members[index].penalty_steps += 1

    @staticmethod
    def _add_weights(member: Member, weights: Tensor) -> None:
        assert member.weight_sums is not None
        member.weight_sums += weights.detach().double().cpu()
        member.weighted_steps += 1

    def _context(self, member: Member, losses: Tensor, epoch: int, present: tuple[bool, ...]) -> StepContext:
        """The StepContext the run's Trainer would build (gradient norms on the run's own model when asked)."""
        trainer = member.trainer
        last_layer = shared = None
        if trainer.strategy.grad_norms == "last_layer":
            last_layer = gradient_norms(losses, trainer.model.last_shared_layer()).detach()
        if trainer.strategy.grad_norms == "shared":
            shared = partial(gradient_norms, losses, trainer.shared, True)
        return StepContext(epoch, member.step, self.task_names, tuple(member.epoch_losses), member.initial_losses,
                           last_layer, present, shared)

    def _check_finite(self, values: Tensor, epoch: int, started: float) -> None:
        """End, 'diverged', every running run with a nan or inf loss in this step (as Trainer._check_finite)."""
        for index in self._running():
            row = values[index].tolist()
            bad = next(((name, value) for name, value in zip(self.task_names, row, strict=True)
                        if not np.isfinite(value)), None)
            if bad is not None:
                self._diverge(index, f"loss of task {bad[0]!r} became {bad[1]} at epoch {epoch}", epoch - 1, started)

    def _diverge(self, index: int, reason: str, epochs_run: int, started: float) -> None:
        """End run ``index`` 'diverged', without an evaluation, as Trainer._ended does."""
        self.members[index].running = False
        self.members[index].events.append(RunEnded("diverged", reason, epochs_run, time.perf_counter() - started))

    def _finish(self, ends: Sequence[tuple[int, Status, str, int]], started: float) -> None:
        """End runs (index, status, reason, epochs run) as Trainer._ended does: the selected epoch's weights,
        test predictions ('diverged' when they are not finite), then the validation and test metrics, computed
        for all these runs at once."""
        evaluated: dict[int, tuple[Status, str, int, dict[str, dict[str, Any]]]] = {}
        for index, status, reason, epochs_run in ends:
            member = self.members[index]
            member.running = False
            if member.best_state is not None:
                member.trainer.model.load_state_dict(member.best_state)
            test_predictions = predictions(member.trainer.model, self.dataset, self.dataset.test, self.device)
            if not _all_finite(test_predictions):  # the last update overflowed the outputs
                self._diverge(index, f"the model's outputs became nan or inf after epoch {epochs_run}", epochs_run,
                              started)
            else:
                evaluated[index] = (status, reason, epochs_run, test_predictions)
        val, test = (score(self.dataset, split, self._outputs(split, evaluated))
                     for split in (self.dataset.val, self.dataset.test))
        for index, (status, reason, epochs_run, test_predictions) in evaluated.items():
            self.members[index].events.append(RunEnded(
                status, reason, epochs_run, time.perf_counter() - started,
                metrics={"val": val[index][1], "test": test[index][1]}, predictions=test_predictions))

    def _outputs(self, split: Split, indices: Collection[int]) -> list[Outputs | None]:
        """The raw outputs of the models ``indices`` (their own forward pass) on ``split``."""
        return [model_outputs(member.trainer.model, self.modules[index], split, self.device) if index in indices
                else None for index, member in enumerate(self.members)]


def _all_finite(by_task: dict[str, dict[str, Any]]) -> bool:
    values = [entry.get("proba", entry["pred"]) for entry in by_task.values()]
    return all(bool(np.isfinite(np.asarray(value, dtype=float)).all()) for value in values)


def _on_device(split: Split, device: torch.device) -> Split:
    return Split(features=split.features.to(device),
                 targets={name: value.to(device) for name, value in split.targets.items()},
                 masks={name: value.to(device) for name, value in split.masks.items()}, rows=split.rows)
