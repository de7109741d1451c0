"""The learning-rate schedule of a run, stepped once per epoch."""

from __future__ import annotations

from typing import Literal, TypeAlias

import torch
from torch.optim.lr_scheduler import CosineAnnealingLR, LRScheduler, ReduceLROnPlateau, StepLR

from mtl_core.config import TrainConfig
from mtl_core.train.selection import Watch

Scheduler: TypeAlias = LRScheduler | ReduceLROnPlateau


def make_scheduler(settings: TrainConfig, optimizer: torch.optim.Optimizer, watch: Watch) -> Scheduler | None:
    """``train.scheduler``: none; cosine (Loshchilov & Hutter, 2017, SGDR, without restarts:
    lr_e = lr · (1 + cos(π·e / epochs)) / 2); step (lr · gamma^⌊e / step_size⌋); plateau (lr · gamma
    after ``step_size`` epochs in which ``watch`` did not improve)."""
    if settings.scheduler == "cosine":
        return CosineAnnealingLR(optimizer, T_max=settings.epochs)
    if settings.scheduler == "step":
        return StepLR(optimizer, step_size=settings.step_size, gamma=settings.gamma)
    if settings.scheduler == "plateau":
        mode: Literal["min", "max"] = "max" if watch.higher_is_better else "min"
        return ReduceLROnPlateau(optimizer, mode=mode, factor=settings.gamma, patience=settings.step_size)
    return None


def step_scheduler(scheduler: Scheduler | None, watched: float | None) -> None:
    """Advance one epoch; a plateau schedule skips epochs whose watched value is undefined."""
    if isinstance(scheduler, ReduceLROnPlateau):
        if watched is not None:
            scheduler.step(watched)
    elif scheduler is not None:
        scheduler.step()


def current_lr(optimizer: torch.optim.Optimizer) -> float:
    """The learning rate of the model's parameter group."""
    return float(optimizer.param_groups[0]["lr"])
