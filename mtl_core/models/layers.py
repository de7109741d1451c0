"""Layers whose randomness comes from a run's own generator, so runs in parallel threads stay reproducible."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn


class Dropout(nn.Module):
    """Inverted dropout (Srivastava et al., 2014) drawing its masks from ``generator`` when one is set.

    ``torch.nn.Dropout`` draws from the process-wide generator, which threads share; a run that
    owns its generator gives the same masks whatever else is running.
    """

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = p
        self.generator: torch.Generator | None = None

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.p == 0.0:
            return x
        keep = torch.rand(x.shape, generator=self.generator, device=x.device, dtype=x.dtype) >= self.p
        return x * keep / (1.0 - self.p)

    def extra_repr(self) -> str:
        return f"p={self.p}"


def initialize(model: nn.Module, generator: torch.Generator) -> None:
    """Re-draw every Linear/Conv weight and bias from ``generator`` with PyTorch's default scheme.

    Default (He et al., 2015, kaiming-uniform with a = √5): W ~ U(±1/√fan_in), b ~ U(±1/√fan_in).
    A model with its own ``initialize_parameters(generator)`` (e.g. single_task, which draws each task's
    network as a one-task model would) decides for itself.
    """
    own = getattr(model, "initialize_parameters", None)
    if callable(own):
        own(generator)
        return
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, (nn.Linear, nn.Conv1d, nn.Conv2d)):
                nn.init.kaiming_uniform_(module.weight, a=math.sqrt(5), generator=generator)
                if module.bias is not None:
                    fan_in = module.weight[0].numel()
                    bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
                    nn.init.uniform_(module.bias, -bound, bound, generator=generator)


def seed_dropout(model: nn.Module, generator: torch.Generator) -> None:
    """Give every Dropout layer of ``model`` the run's generator (on the model's device)."""
    for module in model.modules():
        if isinstance(module, Dropout):
            module.generator = generator
