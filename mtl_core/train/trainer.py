"""Trainer: ``run()`` is a generator of events; the caller consumes them and may stop at any point.

The training loop (``Lockstep``) steps one Trainer, or several whose runs differ only in ``train.seed``
(``train_together``): each Trainer computes its batches, losses, gradients and step context as it does alone,
and one optimiser steps all their models, so each run's numbers are its separate run's, bit for bit.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Generator, Iterator, Sequence
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
from mtl_core.models.registry import check_training_rows, rows_at_once
from mtl_core.train.device import choose_device
from mtl_core.train.diagnostics import INSPECTED_ROWS, Batch, Recorder
from mtl_core.train.evaluation import evaluate_models, predictions
from mtl_core.train.events import EpochEnded, Event, RunEnded, RunStarted, Status
from mtl_core.train.losses import stacked_losses
from mtl_core.train.optim import make_optimizer
from mtl_core.train.schedule import current_lr, make_scheduler, step_scheduler
from mtl_core.train.selection import VAL_LOSS, Selection, Watch, watch_for
from mtl_core.train.stack import ParameterStack
from mtl_core.train.step import gradient_based_grads, loss_based_grads
from mtl_core.weighting import GradientStrategy, LossWeighting, StepContext, create, gradient_norms


@dataclass(slots=True)
class _EpochTally:
    """Running sums over one epoch's steps, in Python floats (float64: no overflow, no tensor op per step)."""

    loss_sums: list[float]  # [T], Σ loss × labelled rows
    counts: list[float]  # [T], labelled rows
    weight_sums: list[float]  # [T]
    weighted_steps: int = 0
    penalty_sum: float = 0.0  # the model's regulariser, summed over steps
    penalty_steps: int = 0


class Trainer:
    """Trains one model on one MTLDataset as the config says; everything random comes from ``train.seed``.

    ``run()`` trains it alone; ``train_together`` trains several Trainers whose configs differ only in
    ``train.seed`` in one loop, each exactly as alone.
    """

    def __init__(self, config: ExperimentConfig, dataset: MTLDataset,
                 should_stop: Callable[[], bool | str] | None = None) -> None:
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
        if config.train.batch_size:  # full batches (0) are cut to what fits, in Lockstep._train_epoch
            check_training_rows(self.model, min(config.train.batch_size, len(dataset.train)))
        # the tasks some training rows leave unlabelled: the others' batches need no mask (the same losses)
        self.partly_labelled = tuple(name for name in self.task_names if not bool(dataset.train.masks[name].all()))
        self.in_representation = getattr(self.strategy, "space", "parameters") == "representation"
        if self.in_representation and not self.model.has_representation:
            raise ConfigError(f"strategy.space = 'representation': architecture {config.model.architecture!r} "
                              f"has no single shared representation; use space = 'parameters'")
        self.diagnostics: Recorder | None = None  # train.diagnostics: made afresh by each run's ``_start``

    def run(self) -> Generator[Event, None, None]:
        """Yield RunStarted, one EpochEnded per epoch, then RunEnded: completed (maybe early), diverged, stopped."""
        for _, event in Lockstep([self], self.should_stop).events():
            yield event

    def _start(self) -> RunStarted:
        """Forget what a previous run learned (the strategy's state, the best epoch, the loss history); the run's
        RunStarted event."""
        self.strategy.reset()
        self.strategy.check_tasks(self.task_names)
        self.selection.reset()
        self.best_state: dict[str, Tensor] | None = None  # the selected epoch's weights
        self.epoch_losses: tuple[tuple[float, ...], ...] = ()  # a tuple: every step's context shares it
        self.initial_losses: tuple[float, ...] | None = None
        self.step = 0
        if self.config.train.diagnostics:
            self.diagnostics = Recorder(self.model, self.shared, self.dataset.info,
                                        isinstance(self.strategy, GradientStrategy),
                                        "representation" if self.in_representation else "parameters",
                                        bool(getattr(self.strategy, "log_losses", False)))
        return RunStarted(
            tasks=self.task_names, epochs=self.config.train.epochs, n_train=len(self.dataset.train),
            n_val=len(self.dataset.val), n_test=len(self.dataset.test),
            n_parameters=sum(p.numel() for p in self.model.parameters()), device=str(self.device),
            strategy=self.config.strategy.name,
        )

    def _set_up_selection(self) -> None:
        """The watched validation value (train.select), its tracker, and the lr schedule."""
        self.watch = watch_for(self.config.train.select, self.dataset.tasks)
        self.lr_watch = self.watch or Watch(VAL_LOSS, higher_is_better=False)  # what a plateau schedule follows
        self._check_validation_rows()
        self.scheduler = make_scheduler(self.config.train, self.optimizer, self.lr_watch)
        self.selection = Selection(self.watch, self.config.train.patience)
        self.best_state = None

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

    def _start_epoch(self, n_rows: int, batch: int, lr: float | None = None) -> None:
        """Training mode, an empty tally and this epoch's order of the rows (from the run's shuffle generator);
        ``lr``: the rate this epoch trains with (the diagnostics' lookahead step)."""
        if self.diagnostics is not None:
            self.diagnostics.start_epoch(math.ceil(n_rows / batch), current_lr(self.optimizer) if lr is None else lr)
        self.model.train()
        self.order = torch.randperm(n_rows, generator=self.shuffle).to(self.device) if batch < n_rows else None
        self.n_rows = n_rows
        n_tasks = len(self.task_names)
        self.tally = _EpochTally([0.0] * n_tasks, [0.0] * n_tasks, [0.0] * n_tasks)

    def _train_batch(self, train: Split, start: int, batch: int, epoch: int) -> str | None:
        """The losses of this run's next batch and their gradients (``_step``); None, or why the run diverged when a
        loss is nan or inf (then nothing is stepped)."""
        rows = self.order[start:start + batch] if self.order is not None else slice(None)
        n_batch = min(batch, self.n_rows - start) if self.order is not None else self.n_rows
        targets = {name: value[rows] for name, value in train.targets.items()}
        # a task labelled on every training row needs no mask, unless the diagnostics' probe reads the masks
        selected = {name: train.masks[name][rows] for name in (self.task_names if self.diagnostics is not None
                                                               else self.partly_labelled)}
        representation = self.model.encode(train.features[rows]) if self.in_representation else None
        outputs = self.model(train.features[rows]) if representation is None else self.model.decode(representation)
        losses = stacked_losses(outputs, targets, selected, self.dataset.info)
        values = losses.tolist()
        for name, value in zip(self.task_names, values, strict=True):
            if not math.isfinite(value):
                return f"loss of task {name!r} became {value} at epoch {epoch}"
        counts = self._labelled_counts(selected, n_batch)
        probe = (train.features[rows], targets, selected) if self.diagnostics is not None else None
        weights, penalty = self._step(losses, epoch, tuple(count > 0 for count in counts), representation,
                                      probe, values)
        tally = self.tally
        if penalty is not None:
            tally.penalty_sum += penalty
            tally.penalty_steps += 1
        for task, (value, count) in enumerate(zip(values, counts, strict=True)):
            tally.loss_sums[task] += value * count
            tally.counts[task] += count
        if weights is not None:
            for task, weight in enumerate(weights.tolist()):
                tally.weight_sums[task] += weight
            tally.weighted_steps += 1
        return None

    def _labelled_counts(self, selected: dict[str, Tensor], n_batch: int) -> list[float]:
        """Labelled rows per task in a batch of ``n_batch`` rows: all of them for a fully labelled task, else its
        mask's count (one read-back for all such tasks)."""
        if not self.partly_labelled:
            return [float(n_batch)] * len(self.task_names)
        partial = self.partly_labelled
        counted = dict(zip(partial, torch.stack([selected[name].sum() for name in partial]).tolist(), strict=True))
        return [float(counted.get(name, n_batch)) for name in self.task_names]

    def _step(self, losses: Tensor, epoch: int, present: tuple[bool, ...], representation: Tensor | None,
              probe: Batch | None = None, values: list[float] | None = None) -> tuple[Tensor | None, float | None]:
        """The gradients of one optimisation step (the loop then steps the optimiser); returns the task weights used
        (None when the method has none) and the model's regulariser value (None when it has none). ``probe``, with
        train.diagnostics: the batch, for the lookahead affinity; ``values``: the losses already read back."""
        if self.initial_losses is None:
            self.initial_losses = tuple(losses.detach().cpu().tolist() if values is None else values)
        self.optimizer.zero_grad(set_to_none=True)
        weights: Tensor | None
        if isinstance(self.strategy, LossWeighting):
            if probe is not None and self.diagnostics is not None:
                self.diagnostics.loss_step(losses, present, probe)
            weights = loss_based_grads(self.strategy, losses, self._context(losses, epoch, present))
        else:
            assert isinstance(self.strategy, GradientStrategy)
            observe = None if probe is None or self.diagnostics is None else partial(
                self.diagnostics.gradient_step, losses, probe)
            weights = gradient_based_grads(self.strategy, losses, present, self.shared, self.heads, representation,
                                           observe=observe)
            if probe is not None and self.diagnostics is not None:
                weights = self.diagnostics.weights_used(weights)  # least squares when the method has none
        if self.diagnostics is not None:
            self.diagnostics.stepped()
        penalty = self.model.regularizer()
        if penalty is not None:  # soft sharing: its gradient is added to the tasks'
            penalty.backward()
        if self.config.train.clip_grad_norm is not None:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.config.train.clip_grad_norm)
        return weights, None if penalty is None else float(penalty.detach())

    def _diagnostics_record(self, epoch: int) -> dict[str, Any] | None:
        """The epoch's diagnostics record with what the model shows of itself on up to ``INSPECTED_ROWS`` validation
        rows (training rows when there are none); None without train.diagnostics."""
        if self.diagnostics is None:
            return None
        split = self.dataset.val if len(self.dataset.val) > 0 else self.dataset.train
        return self.diagnostics.record(epoch, split.features[:INSPECTED_ROWS].to(self.device))

    def _stepped(self) -> None:
        """The optimiser has stepped."""
        self.strategy.after_step()
        self.step += 1

    def _end_epoch(self) -> tuple[dict[str, float], dict[str, float], dict[str, float]]:
        """The epoch's mean train loss and weights per task, and its extras (the mean regulariser)."""
        tally = self.tally
        means = [total / max(count, 1.0) for total, count in zip(tally.loss_sums, tally.counts, strict=True)]
        self.epoch_losses += (tuple(means),)
        weights_used = [total / tally.weighted_steps for total in tally.weight_sums] if tally.weighted_steps else []
        extras = {"regularizer": tally.penalty_sum / tally.penalty_steps} if tally.penalty_steps else {}
        return (dict(zip(self.task_names, means, strict=True)), dict(zip(self.task_names, weights_used, strict=False)),
                extras)

    def _context(self, losses: Tensor, epoch: int, present: tuple[bool, ...]) -> StepContext:
        last_layer = None
        if self.strategy.grad_norms == "last_layer":
            last_layer = gradient_norms(losses, self.model.last_shared_layer()).detach()
        shared = None
        if self.strategy.grad_norms == "shared":
            shared = partial(gradient_norms, losses, self.shared, True)
        return StepContext(epoch, self.step, self.task_names, self.epoch_losses, self.initial_losses,
                           last_layer, present, shared)

    def _validated(self, epoch: int, val_loss: dict[str, float], val_metrics: dict[str, Any]) -> None:
        """Keep a copy of the weights when the selected value improves."""
        if self.selection.update(epoch, val_loss, val_metrics):
            self.best_state = {name: value.detach().clone() for name, value in self.model.state_dict().items()}


class Lockstep:
    """The training loop of one run, or of runs that differ only in ``train.seed`` (``together_reason``).

    Each Trainer draws its own batches, computes its own losses, gradients and step context and keeps its own
    selection, exactly as when it trains alone; one optimiser steps them all: a lone run's own, or one over
    the models' parameters stacked on a leading axis (``ParameterStack``), which gives each model the update
    its own optimiser would, bit for bit. Validation metrics of several runs are computed at once
    (``evaluate_models``). A run that diverges, stops early or ends leaves the others as they are.
    """

    def __init__(self, trainers: Sequence[Trainer], should_stop: Callable[[], bool | str] | None = None) -> None:
        self.trainers = list(trainers)
        first = self.trainers[0]
        self.config, self.dataset, self.device = first.config, first.dataset, first.device
        self.should_stop = should_stop or (lambda: False)
        self.running = list(range(len(self.trainers)))
        self.stack: ParameterStack | None = None
        self.optimizer, self.scheduler = first.optimizer, first.scheduler
        if len(self.trainers) > 1:
            self.stack = ParameterStack([trainer.model for trainer in self.trainers])
            extra = [parameter for trainer in self.trainers for parameter in trainer.strategy.parameters()]
            self.optimizer = make_optimizer(self.config.train, self.stack.parameters.values(), extra)
            self.scheduler = make_scheduler(self.config.train, self.optimizer, first.lr_watch)

    def events(self) -> Generator[tuple[int, Event], None, None]:
        """(index of the run, event): each run's RunStarted, its EpochEnded per epoch, then its RunEnded."""
        with cpu_threads(self.config.train.threads):
            yield from self._events()

    def _events(self) -> Generator[tuple[int, Event], None, None]:
        started = time.perf_counter()
        train = _to_device(self.dataset.train, self.device)
        for index, trainer in enumerate(self.trainers):
            yield index, trainer._start()
        epochs = self.config.train.epochs
        for epoch in range(1, epochs + 1):
            if not self.running:
                return
            if stop := self.should_stop():  # a text says why (a time limit, a closed tab)
                reason = stop if isinstance(stop, str) else f"stopped by the user before epoch {epoch}"
                yield from self._end([(index, "stopped", reason, epoch - 1) for index in self.running], started)
                return
            yield from self._epoch(train, epoch, started)
        yield from self._end([(index, "completed", "", epochs) for index in self.running], started)

    def _epoch(self, train: Split, epoch: int, started: float) -> Generator[tuple[int, Event], None, None]:
        """Train one epoch, validate, and yield each running run's EpochEnded (or its end)."""
        epoch_start = time.perf_counter()
        diverged, summaries = self._train_epoch(train, epoch)
        for index, reason in diverged:
            yield index, RunEnded("diverged", reason, epoch - 1, time.perf_counter() - started)
        if not self.running:
            return
        lr = current_lr(self.optimizer)  # the rate this epoch trained with, before the schedule steps
        trainers = [self.trainers[index] for index in self.running]
        evaluations = evaluate_models([trainer.model for trainer in trainers], self.dataset, self.dataset.val,
                                      self.device)
        for trainer, (val_loss, val_metrics) in zip(trainers, evaluations, strict=True):
            trainer._validated(epoch, val_loss, val_metrics)
        step_scheduler(self.scheduler, trainers[0].lr_watch.value(*evaluations[0]))  # plateau: one run only
        now = time.perf_counter()
        stopping: list[tuple[int, Status, str, int]] = []
        for index, trainer, (val_loss, val_metrics) in zip(list(self.running), trainers, evaluations, strict=True):
            train_loss, weights, extras = summaries[index]
            yield index, EpochEnded(epoch, train_loss, val_loss, weights, val_metrics, now - epoch_start,
                                    now - started, {"lr": lr, **extras}, trainer._diagnostics_record(epoch))
            if trainer.selection.exhausted:
                stopping.append((index, "completed", trainer.selection.stop_reason(), epoch))
        yield from self._end(stopping, started)

    def _train_epoch(self, train: Split, epoch: int) -> tuple[list[tuple[int, str]], dict[int, tuple[Any, ...]]]:
        """One pass over the training rows, each run in its own order: the runs that diverged (and why), and each
        other run's mean train losses, weights and extras."""
        n_rows = len(train)
        # a full batch (0) of a table too large for the activation budget: the largest batches that fit
        batch = self.config.train.batch_size or rows_at_once(self.trainers[0].model, n_rows, gradients=True)
        for index in self.running:
            self.trainers[index]._start_epoch(n_rows, batch, current_lr(self.optimizer))
        diverged: list[tuple[int, str]] = []
        for start in range(0, n_rows, batch):
            if n_rows - start == 1 and start > 0 and self.trainers[0].has_batch_norm:
                break  # batch norm cannot normalise a single row: that last row waits for the next epoch
            for index in list(self.running):
                reason = self.trainers[index]._train_batch(train, start, batch, epoch)
                if reason is not None:
                    self.running.remove(index)
                    diverged.append((index, reason))
            if not self.running:
                break
            self._step_optimizer()
        for index, finite in zip(list(self.running), self._finite(), strict=True):
            if not finite:
                self.running.remove(index)
                diverged.append((index, f"the model's parameters became nan or inf at epoch {epoch}"))
        return diverged, {index: self.trainers[index]._end_epoch() for index in self.running}

    def _step_optimizer(self) -> None:
        """Step the running runs with the gradients their Trainers left."""
        if self.stack is not None:
            self.stack.gather_grads(self.running)
        self.optimizer.step()
        if self.stack is not None:  # a run that has ended leaves no gradient behind (its strategy's tensors)
            self.optimizer.zero_grad(set_to_none=True)
        for index in self.running:
            self.trainers[index]._stepped()

    def _finite(self) -> list[bool]:
        """Per running run: whether all its parameters are finite."""
        if self.stack is not None:
            finite = self.stack.finite()
            return [finite[index] for index in self.running]
        return [all(bool(torch.isfinite(parameter).all()) for parameter in self.trainers[index].model.parameters())
                for index in self.running]

    def _end(self, ends: Sequence[tuple[int, Status, str, int]],
             started: float) -> Generator[tuple[int, Event], None, None]:
        """End runs (index, status, reason, epochs run): the selected epoch's weights, test predictions ('diverged'
        when they are not finite), then the validation and test metrics."""
        evaluated: list[tuple[int, Status, str, int, dict[str, dict[str, Any]]]] = []
        for index, status, reason, epochs_run in ends:
            self.running.remove(index)
            trainer = self.trainers[index]
            if trainer.best_state is not None:  # the selected epoch's weights are the ones evaluated (and saved)
                trainer.model.load_state_dict(trainer.best_state)
            test_predictions = predictions(trainer.model, self.dataset, self.dataset.test, self.device)
            if _all_finite(test_predictions):
                evaluated.append((index, status, reason, epochs_run, test_predictions))
            else:  # the last update overflowed the outputs
                reason = f"the model's outputs became nan or inf after epoch {epochs_run}"
                yield index, RunEnded("diverged", reason, epochs_run, time.perf_counter() - started)
        models = [self.trainers[index].model for index, *_ in evaluated]
        val, test = (evaluate_models(models, self.dataset, split, self.device)
                     for split in (self.dataset.val, self.dataset.test))
        for (index, status, reason, epochs_run, test_predictions), (_, val_metrics), (_, test_metrics) in zip(
                evaluated, val, test, strict=True):
            yield index, RunEnded(status, reason, epochs_run, time.perf_counter() - started,
                                  metrics={"val": val_metrics, "test": test_metrics}, predictions=test_predictions)


def train_together(trainers: Sequence[Trainer],
                   should_stop: Callable[[], bool | str] | None = None) -> list[list[Event]]:
    """Train runs that differ only in ``train.seed`` (see ``together_reason``) in one loop; each run's events.

    Every number is what each run's own ``run()`` gives; ``should_stop`` is asked before each epoch.
    """
    histories: list[list[Event]] = [[] for _ in trainers]
    for index, event in Lockstep(trainers, should_stop).events():
        histories[index].append(event)
    return histories


_pinned = threading.local()  # ``threads``: the count a job manager set for the runs of this worker thread


def pin_threads(threads: int) -> None:
    """Set PyTorch's intra-op CPU threads to ``threads`` and make the runs trained on this thread keep them.

    The count is process-wide (``torch.set_num_threads`` from one thread changes it for all), so runs
    training at once on a server's worker threads would reset each other's ``train.threads``. A job manager
    calls this once per worker with the cores shared out between its workers; ``cpu_threads`` then ignores
    the runs' own values on those threads.
    """
    torch.set_num_threads(threads)
    _pinned.threads = threads


@contextmanager
def cpu_threads(threads: int | None) -> Iterator[None]:
    """PyTorch's intra-op CPU threads set to ``threads`` (process-wide) while the block runs, then put back.

    A small model trains many times faster on one thread than on two when other jobs share the cores
    (threads wait for each other at every operation); None leaves PyTorch's choice alone, and so does a
    thread whose count a job manager pinned (``pin_threads``).
    """
    if getattr(_pinned, "threads", None) is not None:
        threads = None
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
