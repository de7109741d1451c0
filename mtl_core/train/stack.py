"""The parameters of N models of one architecture, stacked into leaf tensors [N, ...] that one optimiser steps.

Slice n of each stacked tensor is the storage of model n's parameter: model n runs its own forward pass (its
own module, its own buffers, its own dropout generator) and sees every optimiser step at once. Adam, AdamW and
SGD update each element from that element's gradient and state alone, so stepping the stack gives each model
exactly the update its separate optimiser would (bit for bit; ``tests/unit/train/test_together.py``).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from mtl_core.models import MTLModel


class ParameterStack:
    """N models whose parameters live in stacked leaf tensors; gradients are gathered into the stack to step."""

    def __init__(self, models: Sequence[MTLModel]) -> None:
        self.models = list(models)
        self.by_model = [dict(model.named_parameters()) for model in self.models]
        self.parameters: dict[str, Tensor] = {
            name: torch.stack([parameters[name].detach() for parameters in self.by_model]).requires_grad_(True)
            for name in self.by_model[0]
        }
        for index, parameters in enumerate(self.by_model):
            for name, parameter in parameters.items():
                parameter.data = self.parameters[name].data[index]  # the model now reads and writes slice n

    def __len__(self) -> int:
        return len(self.models)

    def gather_grads(self, running: Sequence[int]) -> None:
        """Stacked gradients from the running models' own ones (zeros in the slices of the others).

        A parameter no running model has a gradient for keeps None, so the optimiser skips it as each separate
        optimiser would. Models of one architecture on the same kind of batch have the same graph, so either
        all running models have a gradient for a parameter or none has.
        """
        for name, stacked in self.parameters.items():
            grads = [grad for index in running if (grad := self.by_model[index][name].grad) is not None]
            if not grads:
                stacked.grad = None
                continue
            assert len(grads) == len(running), f"some runs have no gradient for {name}"
            if len(running) == len(self):
                stacked.grad = torch.stack(grads)
            else:
                full = torch.zeros_like(stacked)
                for index, grad in zip(running, grads, strict=True):
                    full[index] = grad
                stacked.grad = full

    def finite(self) -> list[bool]:
        """Per model: whether all its parameters are finite."""
        finite = torch.ones(len(self), dtype=torch.bool, device=self.device)
        for value in self.parameters.values():
            finite &= torch.isfinite(value.detach()).flatten(1).all(dim=1)
        return finite.tolist()

    @property
    def device(self) -> torch.device:
        """Where the stacked parameters live."""
        return next(iter(self.parameters.values())).device
