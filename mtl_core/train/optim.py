"""The optimiser of a run: Adam, AdamW or SGD over the model's and the strategy's parameters."""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import Tensor

from mtl_core.config import TrainConfig


def make_optimizer(settings: TrainConfig, model_parameters: Iterable[Tensor],
                   strategy_parameters: Iterable[Tensor] = ()) -> torch.optim.Optimizer:
    """One optimiser; a strategy's learned tensors form a second group without weight decay."""
    groups = [{"params": list(model_parameters), "weight_decay": settings.weight_decay}]
    extra = list(strategy_parameters)
    if extra:
        groups.append({"params": extra, "weight_decay": 0.0})
    if settings.optimizer == "adam":
        return torch.optim.Adam(groups, lr=settings.lr)
    if settings.optimizer == "adamw":
        return torch.optim.AdamW(groups, lr=settings.lr)
    return torch.optim.SGD(groups, lr=settings.lr, momentum=settings.momentum)
