"""Per-task losses over the labelled rows of a batch (missing labels are masked)."""

from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F
from torch import Tensor

from mtl_core.data import TaskInfo

REGRESSION_LOSSES = {"mse": F.mse_loss, "l1": F.l1_loss, "smooth_l1": F.smooth_l1_loss}


def task_loss(output: Tensor, target: Tensor, mask: Tensor | None, info: TaskInfo) -> Tensor:
    """Mean loss of one task over the rows where ``mask`` is True; 0 (still in the graph) when there are none.
    ``mask`` None: every row is labelled (the same value as an all-True mask, without selecting the rows).

    Shapes: output [B, out], target [B], mask [B].
    """
    if mask is not None:
        if not bool(mask.any()):
            return output.sum() * 0.0
        output, target = output[mask], target[mask]
    if info.loss in REGRESSION_LOSSES:
        return REGRESSION_LOSSES[info.loss](output.squeeze(-1), target)
    if info.loss == "bce":
        return F.binary_cross_entropy_with_logits(output.squeeze(-1), target)
    return F.cross_entropy(output, target)


def stacked_losses(outputs: dict[str, Tensor], targets: dict[str, Tensor], masks: Mapping[str, Tensor | None],
                   info: dict[str, TaskInfo]) -> Tensor:
    """The losses of all tasks in task order, [T]; a task without a mask (absent or None) has every row labelled."""
    return torch.stack([task_loss(outputs[name], targets[name], masks.get(name), info[name]) for name in info])
