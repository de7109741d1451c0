"""Cross-stitch networks: Misra, Shrivastava, Gupta and Hebert, 2016, "Cross-stitch Networks for Multi-task
Learning", CVPR, §3.2-3.3 (Eq. 1; initialisation of α in §4.1)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

import torch
from torch import Tensor, nn

from mtl_core.config import ModelConfig
from mtl_core.models.base import MTLModel
from mtl_core.models.registry import ARCHITECTURES
from mtl_core.models.trunks import ResidualBlock, build_trunk, last_layer_parameters

ALPHA_SAME = 0.9  # Misra et al. §4.1: (α_S, α_D) = (0.9, 0.1) initialised best


def split_stages(trunk: nn.Sequential, settings: ModelConfig) -> tuple[list[nn.Sequential], nn.Sequential]:
    """The trunk cut where cross-stitch units go, and what follows the last cut.

    mlp: one stage per hidden layer (Linear → [norm] → activation → [dropout]); nothing follows.
    cnn: one stage per group of ``settings.blocks`` residual blocks (the stem joins the first);
    pooling, flattening and dropout follow.
    """
    layers = list(trunk)
    if settings.trunk == "cnn":
        blocks = [index for index, layer in enumerate(layers) if isinstance(layer, ResidualBlock)]
        ends = blocks[settings.blocks - 1::settings.blocks]
    else:
        starts = [index for index, layer in enumerate(layers) if isinstance(layer, nn.Linear)]
        ends = [start - 1 for start in starts[1:]] + [len(layers) - 1]
    stages, start = [], 0
    for end in ends:
        stages.append(nn.Sequential(*layers[start:end + 1]))
        start = end + 1
    return stages, nn.Sequential(*layers[start:])


def initial_alpha(n_tasks: int) -> Tensor:
    """[T, T]: α_same = 0.9 on the diagonal, α_other = 0.1 / (T − 1) elsewhere (rows sum to 1; 1 for T = 1)."""
    if n_tasks == 1:
        return torch.ones(1, 1)
    other = (1.0 - ALPHA_SAME) / (n_tasks - 1)
    return torch.full((n_tasks, n_tasks), other) + (ALPHA_SAME - other) * torch.eye(n_tasks)


@ARCHITECTURES.register("cross_stitch")
class CrossStitch(MTLModel):
    """One column (a whole trunk) per task; after each stage a learned T×T unit mixes the columns' activations.

    Misra et al., Eq. 1, generalised from 2 to T tasks: at stage l, with x^l_s the output of column s,
        x̃^l_t = Σ_s α^l_ts · x^l_s   (the same α at every position and channel),
    and column t's next stage reads x̃^l_t; ŷ_t = head_t(x̃^L_t). Stages: each hidden layer of the mlp trunk,
    each stage of the cnn (see ``split_stages``). α starts at 0.9 on the diagonal and 0.1/(T−1) off it;
    the paper also trains α with a larger learning rate, which one optimiser does not offer.

    Shared parameters (those more than one task's loss depends on): the cross-stitch units and every column.
    A column "belongs" to its task, but its output is mixed into every other column, so each task's loss
    depends on it and sends it gradient through α; gradient-based strategies must combine the tasks'
    gradients there too. Only the heads are task-specific. No single representation is shared, so
    ``encode``/``decode`` are not implemented.
    """

    def __init__(self, input_shape: tuple[int, ...], heads: dict[str, int], settings: ModelConfig) -> None:
        super().__init__(heads)
        self.flatten_input = settings.trunk == "mlp"
        columns, tails, width = [], [], 0
        for _ in heads:
            trunk, width = build_trunk(settings, input_shape)
            stages, tail = split_stages(trunk, settings)
            columns.append(nn.ModuleList(stages))
            tails.append(tail)
        self.columns, self.tails = nn.ModuleList(columns), nn.ModuleList(tails)
        self.units = nn.ParameterList(nn.Parameter(initial_alpha(len(heads))) for _ in columns[0])
        self.heads = nn.ModuleList(nn.Linear(width, size) for size in heads.values())

    def forward(self, x: Tensor) -> dict[str, Tensor]:
        activations = [x.flatten(1) if self.flatten_input else x] * len(self.task_names)
        for stage, alpha in enumerate(self.units):
            outputs = torch.stack([cast(nn.ModuleList, column)[stage](a)
                                   for column, a in zip(self.columns, activations, strict=True)])
            activations = list(torch.tensordot(alpha, outputs, dims=1))  # [T, T] · [T, B, ...] → T × [B, ...]
        return {name: head(tail(a)) for name, head, tail, a in
                zip(self.task_names, self.heads, self.tails, activations, strict=True)}

    def inspect(self, x: Tensor) -> dict[str, Any]:
        """The cross-stitch units: ``{"cross_stitch": [{task t: {task s: α_ts}} per stage]}``, how much of column
        s's activations column t reads after each stage (Eq. 1; the batch is not needed)."""
        names = self.task_names
        return {"cross_stitch": [{target: dict(zip(names, row, strict=True))
                                  for target, row in zip(names, alpha.detach().double().cpu().tolist(), strict=True)}
                                 for alpha in self.units]}

    def shared_parameters(self) -> Iterator[nn.Parameter]:
        yield from self.columns.parameters()
        yield from self.tails.parameters()
        yield from self.units.parameters()

    def last_shared_layer(self) -> list[nn.Parameter]:
        return [parameter for column in self.columns for parameter in last_layer_parameters(column)]
