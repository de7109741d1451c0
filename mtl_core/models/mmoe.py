"""Multi-gate Mixture-of-Experts: Ma et al., 2018, "Modeling Task Relationships in Multi-task Learning with
Multi-gate Mixture-of-Experts", KDD, §3.3 (Eq. 5-7).

The softmax gate and the task tower defined here are reused by CGC and PLE (``cgc.py``, ``ple.py``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Annotated, Any

import numpy as np
import torch
from pydantic import Field
from torch import Tensor, nn

from mtl_core import limits
from mtl_core.config import MAX_LAYERS, ModelConfig
from mtl_core.models.base import MTLModel
from mtl_core.models.registry import ARCHITECTURES
from mtl_core.models.trunks import build_trunk, last_layer_parameters, mlp


class SoftmaxGate(nn.Module):
    """g(x) = softmax(W_g x) over ``n_choices`` inputs to mix (Ma et al., Eq. 7: W_g ∈ R^{n×d}, no bias)."""

    def __init__(self, in_features: int, n_choices: int) -> None:
        super().__init__()
        self.linear = nn.Linear(in_features, n_choices, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        return torch.softmax(self.linear(x.flatten(1)), dim=-1)  # [B, n_choices]


def mix(weights: Tensor, outputs: Sequence[Tensor]) -> Tensor:
    """Σ_e weights[:, e] · outputs[e]: weights [B, E], outputs E × [B, H] → [B, H]."""
    return torch.einsum("be,beh->bh", weights, torch.stack(list(outputs), dim=1))


def tower(in_features: int, hidden: tuple[int, ...], out_features: int, settings: ModelConfig) -> nn.Sequential:
    """A task tower h_t: an MLP of widths ``hidden`` (the trunk's activation), then a linear output layer."""
    layers = list(mlp(in_features, hidden, settings.activation))
    return nn.Sequential(*layers, nn.Linear(hidden[-1] if hidden else in_features, out_features))


def expert_last_layers(experts: nn.ModuleList) -> list[nn.Parameter]:
    """The last Linear/Conv parameters of every expert, expert by expert (GradNorm's shared W)."""
    return [parameter for expert in experts for parameter in last_layer_parameters(expert)]


def expert_labels(count: int, prefix: str = "expert") -> list[str]:
    """``["expert 1", …]``: the names of a gate's choices as ``inspect`` reports them."""
    return [f"{prefix} {index + 1}" for index in range(count)]


def mean_gate(weights: Tensor, labels: Sequence[str]) -> dict[str, float]:
    """A gate's weights [B, E] averaged over the batch, by expert label."""
    return dict(zip(labels, weights.detach().double().mean(dim=0).cpu().tolist(), strict=True))


TowerHidden = Annotated[tuple[Annotated[int, Field(ge=1, le=limits.MAX_UNITS)], ...], Field(
    max_length=MAX_LAYERS, json_schema_extra={"limit": "MAX_UNITS"},
    description="units of each hidden layer of the task towers; empty: a linear head on the mixture")]


@ARCHITECTURES.register("mmoe")
class MMoE(MTLModel):
    """E experts shared by all tasks, mixed by one softmax gate per task, then one tower per task.

    Ma et al., Eq. 5-7, for task t:
        g_t(x) = softmax(W_t x) ∈ R^E,   f_t(x) = Σ_e g_t,e(x) · expert_e(x),   ŷ_t = h_t(f_t(x)).
    Each expert is a whole trunk (``build_trunk``: mlp or cnn). The gate reads the input flattened
    (tables as they are, images as their C·H·W pixels), as the paper's linear gate W_t x does.
    The paper adds no temperature or noise to the gates, so neither is offered here.

    Shared parameters: the experts, whose outputs reach every task through the gates. The gates and
    towers are task-specific. There is no single shared representation (each task mixes the experts
    its own way), so ``encode``/``decode`` are not implemented and ``has_representation`` is False.
    """

    def __init__(self, input_shape: tuple[int, ...], heads: dict[str, int], settings: ModelConfig, *,
                 n_experts: Annotated[int, Field(ge=1, le=64, description="E, the experts each task's gate mixes")] = 4,
                 tower_hidden: TowerHidden = ()) -> None:
        super().__init__(heads)
        experts, widths = zip(*(build_trunk(settings, input_shape) for _ in range(n_experts)), strict=True)
        self.experts = nn.ModuleList(experts)
        n_inputs = int(np.prod(input_shape))
        self.gates = nn.ModuleList(SoftmaxGate(n_inputs, n_experts) for _ in heads)
        self.towers = nn.ModuleList(tower(widths[0], tower_hidden, size, settings) for size in heads.values())

    def forward(self, x: Tensor) -> dict[str, Tensor]:
        expert_outputs = [expert(x) for expert in self.experts]  # E × [B, H]
        return {name: tower(mix(gate(x), expert_outputs))
                for name, gate, tower in zip(self.task_names, self.gates, self.towers, strict=True)}

    def gate_weights(self, x: Tensor) -> dict[str, Tensor]:
        """Each task's gate g_t(x) over the experts, ``{task: Tensor[B, E]}`` (rows sum to 1)."""
        return {name: gate(x) for name, gate in zip(self.task_names, self.gates, strict=True)}

    def inspect(self, x: Tensor) -> dict[str, Any]:
        """``{"gates": [{task: {"expert e": mean g_t,e(x) over the batch}}]}``: how much each task leans on each
        expert (one level; each task's means sum to 1)."""
        return {"gates": [{name: mean_gate(weights, expert_labels(weights.shape[1]))
                           for name, weights in self.gate_weights(x).items()}]}

    def shared_parameters(self) -> Iterator[nn.Parameter]:
        return self.experts.parameters()

    def last_shared_layer(self) -> list[nn.Parameter]:
        return expert_last_layers(self.experts)
