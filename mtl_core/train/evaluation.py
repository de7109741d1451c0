"""Evaluating models on one split: outputs in original units, losses, metrics and predictions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from mtl_core.data import MTLDataset, Split, TaskInfo
from mtl_core.models.registry import rows_at_once
from mtl_core.train.losses import task_loss
from mtl_core.train.metrics import clean, task_metrics, task_metrics_per_model

CHUNK_ROWS = 8192  # evaluation batch: bounds memory on large splits
Evaluation = tuple[dict[str, float], dict[str, Any]]  # per-task losses and metrics of one model on one split


@torch.no_grad()
def split_outputs(model: nn.Module, split: Split, device: torch.device) -> dict[str, Tensor]:
    """The model's raw outputs for every row of a split, in eval mode, on the CPU, a piece at a time (at most
    CHUNK_ROWS rows, fewer for a model whose layers are wide: ``rows_at_once``)."""
    was_training = model.training
    model.eval()
    piece = rows_at_once(model, CHUNK_ROWS)
    chunks = [model(split.features[start:start + piece].to(device)) for start in range(0, len(split), piece)]
    model.train(was_training)
    names = chunks[0].keys() if chunks else ()
    return {name: torch.cat([chunk[name].float().cpu() for chunk in chunks]) for name in names}


def to_natural(output: Tensor, info: TaskInfo) -> np.ndarray:
    """Regression: predictions in the target's units. Classification: probabilities ([N] for 2 classes)."""
    if info.kind == "regression":
        return (output.squeeze(-1) * info.target_scale + info.target_mean).numpy().astype(float)
    if info.loss == "bce":
        return torch.sigmoid(output.squeeze(-1)).numpy().astype(float)
    proba = torch.softmax(output, dim=-1)
    return (proba[:, 1] if proba.shape[1] == 2 else proba).numpy().astype(float)


def natural_targets(split: Split, info: TaskInfo) -> np.ndarray:
    """The labels of a split in original units (regression) or as class indices."""
    values = split.targets[info.name].numpy().astype(float)
    return values * info.target_scale + info.target_mean if info.kind == "regression" else values


def evaluate(model: nn.Module, dataset: MTLDataset, split: Split, device: torch.device) -> Evaluation:
    """Per-task loss (as trained) and metrics (original units) over the labelled rows of ``split``."""
    if len(split) == 0:
        return {}, {}
    outputs = split_outputs(model, split, device)
    losses: dict[str, float] = {}
    metrics: dict[str, Any] = {}
    for task in dataset.tasks:
        info, mask = dataset.info[task.name], split.masks[task.name]
        if not bool(mask.any()):
            continue
        loss = clean(float(task_loss(outputs[task.name], split.targets[task.name], mask, info)))
        if loss is not None:
            losses[task.name] = loss
        true = natural_targets(split, info)[mask.numpy()]
        natural = to_natural(outputs[task.name], info)[mask.numpy()]
        names: tuple[str, ...] = tuple(task.metrics or ())
        if not np.isfinite(natural).all():  # outputs overflowed: no metric is meaningful
            metrics[task.name] = dict.fromkeys(names)
            continue
        metrics[task.name] = {k: clean(v) for k, v in task_metrics(true, natural, info, names).items()}
    return losses, metrics


def evaluate_models(models: Sequence[nn.Module], dataset: MTLDataset, split: Split,
                    device: torch.device) -> list[Evaluation]:
    """``evaluate`` of each model, with the metrics of all computed at once (``task_metrics_per_model``: scikit-learn's
    definitions, equal to its values to 1e-12 and far cheaper than a call per model and metric, which for one model
    alone would cost about a tenth of a small epoch each time the validation rows are scored)."""
    results: list[Evaluation] = [({}, {}) for _ in models]
    if len(split) == 0 or not models:
        return results
    outputs = [split_outputs(model, split, device) for model in models]
    for task in dataset.tasks:
        info, mask = dataset.info[task.name], split.masks[task.name]
        if not bool(mask.any()):
            continue
        every_row = bool(mask.all())  # then no row is left out: no mask to apply (the same values)
        rows = slice(None) if every_row else mask.numpy()
        naturals = []
        for (losses, _), output in zip(results, outputs, strict=True):
            loss = clean(float(task_loss(output[task.name], split.targets[task.name], None if every_row else mask,
                                         info)))
            if loss is not None:
                losses[task.name] = loss
            naturals.append(to_natural(output[task.name], info)[rows])
        names: tuple[str, ...] = tuple(task.metrics or ())
        with np.errstate(invalid="ignore", over="ignore"):  # a diverged model's rows: its metrics are dropped below
            scores = task_metrics_per_model(natural_targets(split, info)[rows], np.stack(naturals), info, names)
        for (_, metrics), natural, values in zip(results, naturals, scores, strict=True):
            finite = bool(np.isfinite(natural).all())  # outputs overflowed: no metric is meaningful
            metrics[task.name] = values if finite else dict.fromkeys(names)
    return results


def predictions(model: nn.Module, dataset: MTLDataset, split: Split, device: torch.device) -> dict[str, dict[str, Any]]:
    """Per task, over its labelled rows: table row, true value, prediction (and class probabilities)."""
    outputs = split_outputs(model, split, device)
    result: dict[str, dict[str, Any]] = {}
    for task in dataset.tasks:
        info, mask = dataset.info[task.name], split.masks[task.name].numpy()
        true, natural = natural_targets(split, info)[mask], to_natural(outputs[task.name], info)[mask]
        entry: dict[str, Any] = {"row": split.rows[mask].tolist(), "true": true.tolist()}
        if info.kind == "regression":
            entry["pred"] = natural.tolist()
        else:
            entry["true"] = true.astype(int).tolist()
            entry["pred"] = ((natural >= 0.5).astype(int) if natural.ndim == 1 else natural.argmax(axis=1)).tolist()
            entry["proba"] = natural.tolist()
            entry["classes"] = list(info.classes)
        result[task.name] = entry
    return result
