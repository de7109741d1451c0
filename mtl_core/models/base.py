"""MTLModel: the base of every architecture, and the head widths it is built for."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from torch import Tensor, nn


class MTLModel(nn.Module):
    """A network with one output per task: ``forward(x)`` returns ``{task name: Tensor[B, out]}``.

    Subclasses say which parameters all tasks share (``shared_parameters``): gradient-based
    weighting strategies combine the task gradients of exactly these.
    """

    def __init__(self, heads: dict[str, int]) -> None:
        super().__init__()
        self.task_names = tuple(heads)
        self.head_widths = dict(heads)

    def forward(self, x: Tensor) -> dict[str, Tensor]:
        return self.decode(self.encode(x))

    def encode(self, x: Tensor) -> Tensor:
        """The shared representation z of a batch (architectures without one raise NotImplementedError)."""
        raise NotImplementedError

    def decode(self, z: Tensor) -> dict[str, Tensor]:
        """The task outputs from the shared representation."""
        raise NotImplementedError

    @property
    def has_representation(self) -> bool:
        """Whether ``encode``/``decode`` split the model at one shared representation (MGDA-UB needs it)."""
        return type(self).encode is not MTLModel.encode

    def shared_parameters(self) -> Iterator[nn.Parameter]:
        """Parameters every task's loss depends on."""
        raise NotImplementedError

    def task_parameters(self) -> Iterator[nn.Parameter]:
        """Parameters that belong to one task only (the heads)."""
        shared = {id(p) for p in self.shared_parameters()}
        return (p for p in self.parameters() if id(p) not in shared)

    def regularizer(self) -> Tensor | None:
        """A penalty tying the tasks' parameters (soft sharing), added to the loss; None when there is none."""
        return None

    def inspect(self, x: Tensor) -> dict[str, Any]:
        """What the model shows of how its tasks share, on a batch ``x`` (plain values, for ``train.diagnostics``):
        e.g. ``{"gates": ...}`` for mixtures of experts; {} when there is nothing to show. Called without gradients,
        in evaluation mode; it changes nothing."""
        return {}

    def last_shared_layer(self) -> list[nn.Parameter]:
        """The parameters of the last shared layer (GradNorm measures gradient norms there)."""
        return list(self.shared_parameters())[-2:]
