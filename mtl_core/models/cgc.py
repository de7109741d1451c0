"""Customized Gate Control: Tang et al., 2020, "Progressive Layered Extraction (PLE): A Novel Multi-Task Learning
(MTL) Model for Personalized Recommendations", RecSys, §4.2 (Eq. 1-3).

The extraction layer defined here is also the building block of PLE (``ple.py``, §4.3): CGC is PLE with one level.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated, Any, cast

import numpy as np
from pydantic import Field
from torch import Tensor, nn

from mtl_core.config import ModelConfig
from mtl_core.models.base import MTLModel
from mtl_core.models.mmoe import SoftmaxGate, TowerHidden, expert_labels, expert_last_layers, mean_gate, mix, tower
from mtl_core.models.registry import ARCHITECTURES
from mtl_core.models.trunks import build_trunk


class ExtractionLayer(nn.Module):
    """One extraction network: ``n_task`` experts per task, ``n_shared`` shared experts, one gate per task
    over its own and the shared experts, and (``shared_gate``) one gate over every expert.

    Tang et al., Eq. 1-2: g^k(x) = w^k(x) S^k(x), w^k(x) = softmax(W^k x), S^k = [E^k_1..E^k_m, E^s_1..E^s_m];
    §4.3: the shared gate's S^s stacks all tasks' experts and the shared ones.
    """

    def __init__(self, make_expert: Callable[[], tuple[nn.Module, int]], gate_inputs: int, n_tasks: int,
                 n_task: int, n_shared: int, shared_gate: bool) -> None:
        super().__init__()
        built = [make_expert() for _ in range(n_tasks * n_task + n_shared)]
        self.width = built[0][1]  # every expert has the same output width H
        experts = [module for module, _ in built]
        self.task_experts = nn.ModuleList(nn.ModuleList(experts[k * n_task:(k + 1) * n_task]) for k in range(n_tasks))
        self.shared_experts = nn.ModuleList(experts[n_tasks * n_task:])
        self.task_gates = nn.ModuleList(SoftmaxGate(gate_inputs, n_task + n_shared) for _ in range(n_tasks))
        self.shared_gate = SoftmaxGate(gate_inputs, n_tasks * n_task + n_shared) if shared_gate else None

    def forward(self, task_inputs: list[Tensor], shared_input: Tensor) -> tuple[list[Tensor], Tensor | None]:
        """Task k's experts and gate read ``task_inputs[k]``; the shared experts and gate read ``shared_input``.

        Returns each task's mixture [B, H] and the shared gate's mixture (None without a shared gate).
        """
        shared = [expert(shared_input) for expert in self.shared_experts]
        own = [[expert(inputs) for expert in cast(nn.ModuleList, experts)]
               for inputs, experts in zip(task_inputs, self.task_experts, strict=True)]
        task_outputs = [mix(gate(inputs), [*mine, *shared])
                        for inputs, gate, mine in zip(task_inputs, self.task_gates, own, strict=True)]
        if self.shared_gate is None:
            return task_outputs, None
        everything = [output for mine in own for output in mine] + shared
        return task_outputs, mix(self.shared_gate(shared_input), everything)

    def shared_parameters(self, feeds_shared_gate_next: bool) -> Iterator[nn.Parameter]:
        """The parameters more than one task depends on (see ``CGC``'s docstring for the rule)."""
        yield from self.shared_experts.parameters()
        if self.shared_gate is not None:
            yield from self.shared_gate.parameters()
            yield from self.task_experts.parameters()  # the shared gate mixes them into every task
        if feeds_shared_gate_next:
            yield from self.task_gates.parameters()  # they feed next level's task experts, mixed for all


SharedExperts = Annotated[int, Field(ge=1, le=32, description="experts every task's gate mixes, at each level")]
TaskExperts = Annotated[int, Field(ge=1, le=32, description="experts of each task's own, at each level")]


@ARCHITECTURES.register("cgc")
class CGC(MTLModel):
    """Shared experts plus task-specific experts; each task's gate mixes its own experts and the shared ones.

    Tang et al., Eq. 1-3, for task k: y^k(x) = t^k(g^k(x)), g^k(x) = softmax(W^k x) · [E^k(x), E^s(x)].
    Level 1's experts are whole trunks (``build_trunk``: mlp or cnn); gates read the input flattened.

    Stacked ``levels`` deep this is PLE (§4.3): at level j ≥ 2 task k's experts and gate read task k's
    mixture of level j−1, the shared experts read the shared gate's mixture of level j−1, and every level
    but the last has a shared gate over all its experts. Experts of levels ≥ 2 are MLPs of widths
    ``[model] hidden`` on the previous level's width (with ``trunk = "cnn"`` only level 1 is convolutional).

    Shared parameters (those more than one task's output depends on), with L levels: every shared expert
    and shared gate, the task experts of levels < L (a shared gate mixes them), and the task gates of levels
    < L−1 (they feed task experts that a shared gate mixes). For CGC (L = 1) that is the shared experts alone.
    """

    def __init__(self, input_shape: tuple[int, ...], heads: dict[str, int], settings: ModelConfig, *,
                 n_shared_experts: SharedExperts = 2, n_task_experts: TaskExperts = 1,
                 tower_hidden: TowerHidden = ()) -> None:
        super().__init__(heads)
        self.build_levels(input_shape, settings, 1, n_shared_experts, n_task_experts, tower_hidden)

    def build_levels(self, input_shape: tuple[int, ...], settings: ModelConfig, levels: int, n_shared_experts: int,
                     n_task_experts: int, tower_hidden: tuple[int, ...]) -> None:
        """The ``levels`` extraction layers and the towers (PLE's ``__init__`` calls it with its own ``levels``)."""
        heads = self.head_widths
        deeper = settings.model_copy(update={"trunk": "mlp"})
        self.levels = nn.ModuleList()
        shape = input_shape
        for level in range(levels):
            make = _expert_factory(settings if level == 0 else deeper, shape)
            layer = ExtractionLayer(make, int(np.prod(shape)), len(heads), n_task_experts, n_shared_experts,
                                    shared_gate=level < levels - 1)
            self.levels.append(layer)
            shape = (layer.width,)
        self.towers = nn.ModuleList(tower(shape[0], tower_hidden, size, settings) for size in heads.values())

    def forward(self, x: Tensor) -> dict[str, Tensor]:
        task_inputs: list[Tensor] = [x] * len(self.task_names)
        shared_input: Tensor | None = x
        for layer in self.levels:
            assert shared_input is not None  # only the last level has no shared gate
            task_inputs, shared_input = layer(task_inputs, shared_input)
        return {name: tower(inputs) for name, tower, inputs in zip(self.task_names, self.towers, task_inputs,
                                                                   strict=True)}

    def inspect(self, x: Tensor) -> dict[str, Any]:
        """Mean gate weights per level: ``{"gates": [{task: {"own e" | "shared e": w}}, …], "shared_gates":
        [{"<task> e" | "shared e": w}, …]}`` (the shared gates of PLE's levels but the last; each gate sums to 1)."""
        gates: list[dict[str, dict[str, float]]] = []
        shared_gates: list[dict[str, float]] = []
        task_inputs: list[Tensor] = [x] * len(self.task_names)
        shared_input: Tensor | None = x
        for layer in self.extraction_layers():
            n_own = len(cast(nn.ModuleList, layer.task_experts[0]))
            labels = [*expert_labels(n_own, "own"), *expert_labels(len(layer.shared_experts), "shared")]
            gates.append({name: mean_gate(gate(inputs), labels) for name, gate, inputs
                          in zip(self.task_names, layer.task_gates, task_inputs, strict=True)})
            if layer.shared_gate is not None and shared_input is not None:
                everything = [label for name in self.task_names for label in expert_labels(n_own, name)]
                shared_gates.append(mean_gate(layer.shared_gate(shared_input),
                                              [*everything, *expert_labels(len(layer.shared_experts), "shared")]))
            assert shared_input is not None
            task_inputs, shared_input = layer(task_inputs, shared_input)
        return {"gates": gates, **({"shared_gates": shared_gates} if shared_gates else {})}

    def shared_parameters(self) -> Iterator[nn.Parameter]:
        layers = self.extraction_layers()
        for index, layer in enumerate(layers):
            yield from layer.shared_parameters(feeds_shared_gate_next=index < len(layers) - 2)

    def last_shared_layer(self) -> list[nn.Parameter]:
        return expert_last_layers(self.extraction_layers()[-1].shared_experts)

    def extraction_layers(self) -> list[ExtractionLayer]:
        """The levels, first to last."""
        return [cast(ExtractionLayer, layer) for layer in self.levels]


def _expert_factory(settings: ModelConfig, input_shape: tuple[int, ...]) -> Callable[[], tuple[nn.Module, int]]:
    """A function building one expert, the trunk ``settings.trunk`` on inputs of ``input_shape``, and its width."""
    return lambda: build_trunk(settings, input_shape)
