"""Single-task learning, the baseline of every multi-task result (Caruana, 1997, "Multitask Learning",
Machine Learning 28: the STL nets MTL is compared with): one independent network per task."""

from __future__ import annotations

from collections.abc import Iterator
from typing import cast

import torch
from torch import Tensor, nn

from mtl_core.config import ModelConfig
from mtl_core.models.base import MTLModel
from mtl_core.models.hps import HardParameterSharing
from mtl_core.models.layers import initialize
from mtl_core.models.registry import ARCHITECTURES


def task_networks(input_shape: tuple[int, ...], heads: dict[str, int], settings: ModelConfig) -> nn.ModuleList:
    """One hps network of a single task per task, in task order: trunk_t (``settings.trunk``) + head_t."""
    return nn.ModuleList(HardParameterSharing(input_shape, {name: size}, settings) for name, size in heads.items())


def as_networks(networks: nn.ModuleList) -> list[HardParameterSharing]:
    """The per-task networks of ``task_networks``, typed."""
    return [cast(HardParameterSharing, network) for network in networks]


def networks_last_layers(networks: nn.ModuleList) -> list[nn.Parameter]:
    """The last trunk layer of every task's network, task by task."""
    return [parameter for network in as_networks(networks) for parameter in network.last_shared_layer()]


@ARCHITECTURES.register("single_task")
class SingleTask(MTLModel):
    """T independent networks, nothing shared: ŷ_t = head_t(trunk_t(x)).

    Network t is an ``hps`` model of task t alone, so a single_task run trains exactly as T separate
    one-task hps runs on the same seed (``tests/unit/models/test_single_task.py`` checks it):

    - initialisation: ``initialize_parameters(generator)`` draws network t from its own generator seeded with
      ``generator.initial_seed()`` (the run's ``train.seed``), as the one-task hps run draws from ``train.seed``;
      drawing all networks from one stream would give task 2 the numbers that follow task 1's.
    - the loss Σ_t L_t sends network t the gradient of L_t alone, and Adam's update is per parameter.
    It holds without dropout (one dropout stream serves every network) and without ``train.clip_grad_norm``
    (the norm is taken over all networks together).

    Shared parameters: none. With a gradient-based strategy the trainer's Jacobian is [T, 0] and the direction
    [0]; every parameter then takes the task-parameter path, ∇ Σ_t L_t, i.e. network t gets ∇L_t: every
    gradient strategy trains single_task as ``equal`` does (loss-based weights w_t still scale L_t).
    ``last_shared_layer`` is each network's own last trunk layer, so GradNorm's ‖∇_W w_t L_t‖ reads task t's.
    """

    def __init__(self, input_shape: tuple[int, ...], heads: dict[str, int], settings: ModelConfig) -> None:
        super().__init__(heads)
        self.networks = task_networks(input_shape, heads, settings)

    def forward(self, x: Tensor) -> dict[str, Tensor]:
        return {name: network(x)[name] for name, network in zip(self.task_names, self.networks, strict=True)}

    def initialize_parameters(self, generator: torch.Generator) -> None:
        """Re-draw each task's network from a fresh generator seeded as ``generator`` was (its initial seed)."""
        for network in self.networks:
            initialize(network, torch.Generator(generator.device).manual_seed(generator.initial_seed()))

    def shared_parameters(self) -> Iterator[nn.Parameter]:
        return iter(())

    def last_shared_layer(self) -> list[nn.Parameter]:
        return networks_last_layers(self.networks)
