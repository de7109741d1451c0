"""Trainer: ``run()`` is a generator of events; the caller consumes them and may stop at any point."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import torch
from torch import Tensor

from mtl_core.config import ExperimentConfig
from mtl_core.data import MTLDataset, Split
from mtl_core.errors import ConfigError
from mtl_core.models import MTLModel, build_model
from mtl_core.models.layers import initialize, seed_dropout
from mtl_core.train.device import choose_device
from mtl_core.train.evaluation import evaluate, predictions
from mtl_core.train.events import EpochEnded, Event, RunEnded, RunStarted
from mtl_core.train.losses import stacked_losses
from mtl_core.train.optim import make_optimizer
from mtl_core.train.schedule import current_lr, make_scheduler, step_scheduler
from mtl_core.train.selection import VAL_LOSS, Selection, Watch, watch_for
from mtl_core.train.step import gradient_based_grads, loss_based_grads
from mtl_core.weighting import GradientStrategy, LossWeighting, StepContext, create, gradient_norms


@dataclass(slots=True)
class _EpochTally:
    """Running sums over one epoch's steps."""

    loss_sums: Tensor  # [T], Σ loss × labelled rows
    counts: Tensor  # [T], labelled rows
    weight_sums: Tensor  # [T]
    weighted_steps: int = 0
    penalty_sum: float = 0.0  # the model's regulariser, summed over steps
    penalty_steps: int = 0


class Diverged(Exception):
    """Internal signal: a loss became nan or inf; the run ends with status 'diverged'."""


class Trainer:
    """Trains one model on one MTLDataset as the config says; everything random comes from ``train.seed``."""

    def __init__(self, config: ExperimentConfig, dataset: MTLDataset,
                 should_stop: Callable[[], bool] | None = None) -> None:
        self.config, self.dataset = config, dataset
        self.should_stop = should_stop or (lambda: False)
        self.task_names = tuple(task.name for task in dataset.tasks)
        self.device = choose_device(config.train.device)
        self.strategy = create(config.strategy.name, **config.strategy.hparams)
        self.strategy.check_tasks(self.task_names)
        self.model = build_run_model(config, dataset)
        initialize(self.model, torch.Generator().manual_seed(config.train.seed))
        self.model.to(self.device)
        seed_dropout(self.model, torch.Generator(self.device).manual_seed(config.train.seed + 1))
        self.shuffle = torch.Generator().manual_seed(config.train.seed + 2)
        self.optimizer = make_optimizer(config.train, self.model.parameters(), self.strategy.parameters())
        self._set_up_selection()
        self.shared = list(self.model.shared_parameters())
        self.heads = list(self.model.task_parameters())
        self.has_batch_norm = any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in self.model.modules())
        if self.has_batch_norm and config.train.batch_size == 1:
            raise ConfigError("train.batch_size = 1 with model.norm = 'batch': batch norm needs at least 2 rows per "
                              "batch; use a larger batch or norm = 'layer'")
        self.in_representation = getattr(self.strategy, "space", "parameters") == "representation"
        if self.in_representation and not self.model.has_representation:
            raise ConfigError(f"strategy.space = 'representation': architecture {config.model.architecture!r} "
                              f"has no single shared representation; use space = 'parameters'")

    def run(self) -> Generator[Event, None, None]:
        """Yield RunStarted, one EpochEnded per epoch, then RunEnded: completed (maybe early), diverged, stopped."""
        with cpu_threads(self.config.train.threads):
            yield from self._run()

    def _run(self) -> Generator[Event, None, None]:
        started = time.perf_counter()
        train = _to_device(self.dataset.train, self.device)
        yield RunStarted(
            tasks=self.task_names, epochs=self.config.train.epochs, n_train=len(self.dataset.train),
            n_val=len(self.dataset.val), n_test=len(self.dataset.test),
            n_parameters=sum(p.numel() for p in self.model.parameters()), device=str(self.device),
            strategy=self.config.strategy.name,
        )
        self._reset()
        for epoch in range(1, self.config.train.epochs + 1):
            if self.should_stop():
                yield self._ended("stopped", f"stopped by the user before epoch {epoch}", epoch - 1, started)
                return
            epoch_start = time.perf_counter()
            try:
                train_loss, weights, extras = self._train_epoch(train, epoch)
            except Diverged as reason:
                yield self._ended("diverged", str(reason), epoch - 1, started)
                return
            lr = current_lr(self.optimizer)  # the rate this epoch trained with, before the schedule steps
            val_loss, val_metrics = self._validate(epoch)
            extras = {"lr": lr, **extras}
            now = time.perf_counter()
            yield EpochEnded(epoch, train_loss, val_loss, weights, val_metrics, now - epoch_start, now - started, extras)
            if self.selection.exhausted:
                yield self._ended("completed", self.selection.stop_reason(), epoch, started)
                return
        yield self._ended("completed", "", self.config.train.epochs, started)

    def _reset(self) -> None:
        """Forget what a previous run learned: the strategy's state, the best epoch, the loss history."""
        self.strategy.reset()
        self.strategy.check_tasks(self.task_names)
        self.selection.reset()
        self.best_state: dict[str, Tensor] | None = None  # the selected epoch's weights
        self.epoch_losses: list[tuple[float, ...]] = []
        self.initial_losses: tuple[float, ...] | None = None
        self.step = 0

    def _set_up_selection(self) -> None:
        """The watched validation value (train.select), its tracker, and the lr schedule."""
        self.watch = watch_for(self.config.train.select, self.dataset.tasks)
        self.lr_watch = self.watch or Watch(VAL_LOSS, higher_is_better=False)  # what a plateau schedule follows
        self._check_validation_rows()
        self.scheduler = make_scheduler(self.config.train, self.optimizer, self.lr_watch)
        self.selection = Selection(self.watch, self.config.train.patience)
        self.best_state = None

    def _validate(self, epoch: int) -> tuple[dict[str, float], dict[str, Any]]:
        """Validation losses and metrics; keep a copy of the weights when the selected value improves; step the lr."""
        val_loss, val_metrics = evaluate(self.model, self.dataset, self.dataset.val, self.device)
        if self.selection.update(epoch, val_loss, val_metrics):
            self.best_state = {name: value.detach().clone() for name, value in self.model.state_dict().items()}
        step_scheduler(self.scheduler, self.lr_watch.value(val_loss, val_metrics))
        return val_loss, val_metrics

    def _check_validation_rows(self) -> None:
        if len(self.dataset.val) > 0:
            return
        if self.watch is not None:
            raise ConfigError(f"train.select = {self.watch.key!r} is measured on the validation rows, but this split "
                              f"has none (data.val_size = {self.config.data.val_size:g}); raise data.val_size or "
                              f"remove train.select")
        if self.config.train.scheduler == "plateau":
            raise ConfigError(f"train.scheduler = 'plateau' follows the validation loss, but this split has no "
                              f"validation rows (data.val_size = {self.config.data.val_size:g}); raise data.val_size "
                              f"or choose another scheduler")

    def _train_epoch(self, train: Split, epoch: int) -> tuple[dict[str, float], dict[str, float], dict[str, float]]:
        self.model.train()
        n_rows, n_tasks = len(train), len(self.task_names)
        batch = self.config.train.batch_size or n_rows
        order = torch.randperm(n_rows, generator=self.shuffle).to(self.device) if batch < n_rows else None
        zeros = [torch.zeros(n_tasks, dtype=torch.float64) for _ in range(3)]  # float64: sums cannot overflow
        tally = _EpochTally(zeros[0], zeros[1], zeros[2])
        for start in range(0, n_rows, batch):
            if n_rows - start == 1 and start > 0 and self.has_batch_norm:
                break  # batch norm cannot normalise a single row: that last row waits for the next epoch
            rows = order[start:start + batch] if order is not None else slice(None)
            targets = {name: value[rows] for name, value in train.targets.items()}
            masks = {name: value[rows] for name, value in train.masks.items()}
            representation = self.model.encode(train.features[rows]) if self.in_representation else None
            outputs = self.model(train.features[rows]) if representation is None else self.model.decode(representation)
            losses = stacked_losses(outputs, targets, masks, self.dataset.info)
            self._check_finite(losses, epoch)
            counts = torch.stack([masks[name].sum() for name in self.task_names]).float().cpu()
            weights, penalty = self._step(losses, epoch, tuple(bool(count > 0) for count in counts), representation)
            if penalty is not None:
                tally.penalty_sum += penalty
                tally.penalty_steps += 1
            tally.loss_sums += losses.detach().double().cpu() * counts
            tally.counts += counts
            if weights is not None:
                tally.weight_sums += weights.detach().double().cpu()
                tally.weighted_steps += 1
        self._check_parameters(epoch)
        means = (tally.loss_sums / tally.counts.clamp(min=1)).tolist()
        self.epoch_losses.append(tuple(means))
        weights_used = (tally.weight_sums / max(tally.weighted_steps, 1)).tolist() if tally.weighted_steps else []
        extras = {"regularizer": tally.penalty_sum / tally.penalty_steps} if tally.penalty_steps else {}
        return (dict(zip(self.task_names, means, strict=True)), dict(zip(self.task_names, weights_used, strict=False)),
                extras)

    def _step(self, losses: Tensor, epoch: int, present: tuple[bool, ...],
              representation: Tensor | None) -> tuple[Tensor | None, float | None]:
        """One optimisation step; returns the task weights used (None when the method has none) and the
        model's regulariser value (None when it has none)."""
        if self.initial_losses is None:
            self.initial_losses = tuple(losses.detach().cpu().tolist())
        self.optimizer.zero_grad(set_to_none=True)
        weights: Tensor | None
        if isinstance(self.strategy, LossWeighting):
            weights = loss_based_grads(self.strategy, losses, self._context(losses, epoch, present))
        else:
            assert isinstance(self.strategy, GradientStrategy)
            weights = gradient_based_grads(self.strategy, losses, present, self.shared, self.heads, representation)
        penalty = self.model.regularizer()
        if penalty is not None:  # soft sharing: its gradient is added to the tasks'
            penalty.backward()
        if self.config.train.clip_grad_norm is not None:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.config.train.clip_grad_norm)
        self.optimizer.step()
        self.strategy.after_step()
        self.step += 1
        return weights, None if penalty is None else float(penalty.detach())

    def _context(self, losses: Tensor, epoch: int, present: tuple[bool, ...]) -> StepContext:
        last_layer = None
        if self.strategy.grad_norms == "last_layer":
            last_layer = gradient_norms(losses, self.model.last_shared_layer()).detach()
        shared = None
        if self.strategy.grad_norms == "shared":
            shared = partial(gradient_norms, losses, self.shared, True)
        return StepContext(epoch, self.step, self.task_names, tuple(self.epoch_losses), self.initial_losses,
                           last_layer, present, shared)

    def _check_parameters(self, epoch: int) -> None:
        if not all(bool(torch.isfinite(parameter).all()) for parameter in self.model.parameters()):
            raise Diverged(f"the model's parameters became nan or inf at epoch {epoch}")

    def _check_finite(self, losses: Tensor, epoch: int) -> None:
        values = losses.detach().cpu().tolist()
        for name, value in zip(self.task_names, values, strict=True):
            if not math.isfinite(value):
                raise Diverged(f"loss of task {name!r} became {value} at epoch {epoch}")

    def _ended(self, status: str, reason: str, epochs_run: int, started: float) -> RunEnded:
        if status == "diverged":
            return RunEnded("diverged", reason, epochs_run, time.perf_counter() - started)
        if self.best_state is not None:  # the selected epoch's weights are the ones evaluated (and saved)
            self.model.load_state_dict(self.best_state)
        test_predictions = predictions(self.model, self.dataset, self.dataset.test, self.device)
        if not _all_finite(test_predictions):  # the last update overflowed the outputs
            reason = f"the model's outputs became nan or inf after epoch {epochs_run}"
            return RunEnded("diverged", reason, epochs_run, time.perf_counter() - started)
        _, val_metrics = evaluate(self.model, self.dataset, self.dataset.val, self.device)
        _, test_metrics = evaluate(self.model, self.dataset, self.dataset.test, self.device)
        return RunEnded(
            status, reason, epochs_run, time.perf_counter() - started,  # type: ignore[arg-type]
            metrics={"val": val_metrics, "test": test_metrics}, predictions=test_predictions,
        )


@contextmanager
def cpu_threads(threads: int | None) -> Iterator[None]:
    """PyTorch's intra-op CPU threads set to ``threads`` (process-wide) while the block runs, then put back.

    A small model trains many times faster on one thread than on two when other jobs share the cores
    (threads wait for each other at every operation); None leaves PyTorch's choice alone.
    """
    previous = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        if threads is not None and torch.get_num_threads() == threads:  # unless another run changed it since
            torch.set_num_threads(previous)


def build_run_model(config: ExperimentConfig, dataset: MTLDataset) -> MTLModel:
    """The (untrained) model of a run: ``config.model`` with one head per task, sized for ``dataset``."""
    heads = {task.name: dataset.info[task.name].output_dim for task in dataset.tasks}
    model: MTLModel = build_model(config.model, dataset.input_shape, heads)
    return model


def _all_finite(by_task: dict[str, dict[str, Any]]) -> bool:
    values = [entry.get("proba", entry["pred"]) for entry in by_task.values()]
    return all(bool(np.isfinite(np.asarray(value, dtype=float)).all()) for value in values)


def _to_device(split: Split, device: torch.device) -> Split:
    return Split(
        features=split.features.to(device),
        targets={name: value.to(device) for name, value in split.targets.items()},
        masks={name: value.to(device) for name, value in split.masks.items()},
        rows=split.rows,
    )
