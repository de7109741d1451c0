"""Losses and validation of N stacked models: ``train.losses`` and ``train.evaluation`` with a model axis.

A batch holds the same number of rows for every model, so a task's loss is the masked mean
Σ_i m_i ℓ_i / max(Σ_i m_i, 1) per model instead of a mean over the selected rows (which would give each
model its own shape); the two agree to float rounding, and both are 0 when no row is labelled.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from mtl_core.data import MTLDataset, Split, TaskInfo
from mtl_core.train.batched.metrics import batched_task_metrics
from mtl_core.train.batched.stack import Outputs, StackedModels
from mtl_core.train.evaluation import CHUNK_ROWS, natural_targets
from mtl_core.train.losses import REGRESSION_LOSSES
from mtl_core.train.metrics import clean

Evaluation = tuple[dict[str, float], dict[str, Any]]  # (val_loss, metrics) of one model, as ``evaluate`` returns


def element_losses(output: Tensor, target: Tensor, info: TaskInfo) -> Tensor:
    """The loss of every row, [N, B], from outputs [N, B, out] and targets [N, B]."""
    if info.loss in REGRESSION_LOSSES:
        return REGRESSION_LOSSES[info.loss](output.squeeze(-1), target, reduction="none")
    if info.loss == "bce":
        return F.binary_cross_entropy_with_logits(output.squeeze(-1), target, reduction="none")
    return F.cross_entropy(output.flatten(0, 1), target.flatten(), reduction="none").view(target.shape)


def masked_losses(outputs: Outputs, targets: dict[str, Tensor], masks: dict[str, Tensor],
                  info: dict[str, TaskInfo]) -> Tensor:
    """The mean loss of each task over each model's labelled rows, [N, T] in task order."""
    columns = []
    for name in info:
        mask = masks[name]
        target = torch.where(mask, targets[name], torch.zeros_like(targets[name]))  # unlabelled rows may hold nan
        losses = torch.where(mask, element_losses(outputs[name], target, info[name]), 0.0)
        columns.append(losses.sum(dim=1) / mask.sum(dim=1).clamp(min=1))
    return torch.stack(columns, dim=1)


@torch.no_grad()
def stacked_outputs(stack: StackedModels, split: Split, device: torch.device) -> Outputs:
    """Every model's raw outputs for every row of a split, without dropout, on the CPU: {task: [N, M, out]}."""
    chunks = []
    for start in range(0, len(split), CHUNK_ROWS):
        features = split.features[start:start + CHUNK_ROWS].to(device)
        chunks.append(stack.forward(features.expand(len(stack), *features.shape), training=False))
    return {name: torch.cat([chunk[name].float().cpu() for chunk in chunks], dim=1) for name in chunks[0]}


def natural_outputs(output: Tensor, info: TaskInfo) -> np.ndarray:
    """``evaluation.to_natural`` per model: [N, M] (regression, two classes) or [N, M, K] probabilities."""
    if info.kind == "regression":
        return (output.squeeze(-1) * info.target_scale + info.target_mean).numpy().astype(float)
    if info.loss == "bce":
        return torch.sigmoid(output.squeeze(-1)).numpy().astype(float)
    proba = torch.softmax(output, dim=-1)
    return (proba[..., 1] if proba.shape[-1] == 2 else proba).numpy().astype(float)


def evaluate_stacked(stack: StackedModels, dataset: MTLDataset, split: Split, device: torch.device) -> list[Evaluation]:
    """``evaluation.evaluate`` of every model: per-task loss (as trained) and metrics (original units)."""
    if len(split) == 0:
        return [({}, {}) for _ in range(len(stack))]
    outputs = stacked_outputs(stack, split, device)
    n_models = len(stack)
    targets = {name: value.expand(n_models, -1) for name, value in split.targets.items()}
    masks = {name: value.expand(n_models, -1) for name, value in split.masks.items()}
    losses = masked_losses(outputs, targets, masks, dataset.info).tolist()  # [N][T]
    results: list[Evaluation] = [({}, {}) for _ in range(n_models)]
    for column, task in enumerate(dataset.tasks):
        info, mask = dataset.info[task.name], split.masks[task.name].numpy()
        if not mask.any():
            continue
        true = natural_targets(split, info)[mask]
        natural = natural_outputs(outputs[task.name], info)[:, mask]
        names: tuple[str, ...] = tuple(task.metrics or ())
        with np.errstate(invalid="ignore", over="ignore"):  # a diverged model's nan rows: its metrics are dropped
            scores = batched_task_metrics(true, natural, info, names)
        for index, (val_loss, metrics) in enumerate(results):
            loss = clean(float(losses[index][column]))
            if loss is not None:
                val_loss[task.name] = loss
            finite = bool(np.isfinite(natural[index]).all())  # outputs overflowed: no metric is meaningful
            metrics[task.name] = scores[index] if finite else dict.fromkeys(names)
    return results
