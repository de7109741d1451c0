"""Losses and validation scores of N models: ``train.losses`` with a model axis, ``train.evaluation.evaluate``
with the metrics computed for all models at once.

In the grouped engine a batch holds the same number of rows for every model, so a task's loss is the masked
mean Σ_i m_i ℓ_i / max(Σ_i m_i, 1) per model instead of a mean over the selected rows (which would give each
model its own shape); the two agree to float rounding, and both are 0 when no row is labelled.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from mtl_core.data import MTLDataset, Split, TaskInfo
from mtl_core.train.batched.metrics import batched_task_metrics
from mtl_core.train.evaluation import natural_targets, to_natural
from mtl_core.train.losses import REGRESSION_LOSSES, task_loss
from mtl_core.train.metrics import clean

Evaluation = tuple[dict[str, float], dict[str, Any]]  # (val_loss, metrics) of one model, as ``evaluate`` returns
Outputs = dict[str, Tensor]  # {task: raw outputs}


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


def score(dataset: MTLDataset, split: Split, outputs: Sequence[Outputs | None]) -> list[Evaluation]:
    """``evaluate`` of every model from its raw outputs on ``split`` (None: a model not evaluated, left empty).

    Losses and predictions come from the functions ``evaluate`` uses; the metrics of all models are computed
    together (``batched_task_metrics``).
    """
    results: list[Evaluation] = [({}, {}) for _ in outputs]
    scored = [index for index, output in enumerate(outputs) if output is not None]
    if len(split) == 0 or not scored:
        return results
    for task in dataset.tasks:
        info, mask = dataset.info[task.name], split.masks[task.name]
        if not bool(mask.any()):
            continue
        true, rows = natural_targets(split, info)[mask.numpy()], mask.numpy()
        naturals = []
        for index in scored:
            output = outputs[index][task.name]  # type: ignore[index]
            loss = clean(float(task_loss(output, split.targets[task.name], mask, info)))
            if loss is not None:
                results[index][0][task.name] = loss
            naturals.append(to_natural(output, info)[rows])
        names: tuple[str, ...] = tuple(task.metrics or ())
        with np.errstate(invalid="ignore", over="ignore"):  # a diverged model's rows: its metrics are dropped below
            scores = batched_task_metrics(true, np.stack(naturals), info, names)
        for index, natural, values in zip(scored, naturals, scores, strict=True):
            finite = bool(np.isfinite(natural).all())  # outputs overflowed: no metric is meaningful
            results[index][1][task.name] = values if finite else dict.fromkeys(names)
    return results
