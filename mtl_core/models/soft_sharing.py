"""Soft parameter sharing: one network per task, tied by a penalty on their trunk parameters (seed 001, §4-5).

Penalties: the mean-regularised form of Evgeniou and Pontil, 2004, "Regularized Multi-Task Learning", KDD
(``l2``); the trace norm of Argyriou, Evgeniou and Pontil, 2008, "Convex Multi-Task Feature Learning", Machine
Learning 73 (``trace_norm``); graph regularisation as in Evgeniou, Micchelli and Pontil, 2005, "Learning
Multiple Tasks with Kernel Methods", JMLR 6 (``graph``); a shared Gaussian prior as in Bakker and Heskes, 2003,
"Task Clustering and Gating for Bayesian Multitask Learning", JMLR 4 (``shared_prior``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any, Literal

import torch
from pydantic import Field
from torch import Tensor, nn

from mtl_core.config import ModelConfig
from mtl_core.errors import ConfigError
from mtl_core.models.base import MTLModel
from mtl_core.models.registry import ARCHITECTURES
from mtl_core.models.single_task import as_networks, networks_last_layers, task_networks

Stacked = list[Tensor]  # one [T, *shape] tensor per trunk parameter: the tasks' corresponding tensors


def l2_penalty(stacked: Stacked) -> Tensor:
    """Σ_t ‖θ_t − θ̄‖², θ̄ = (1/T) Σ_t θ_t, summed over the corresponding tensors."""
    return torch.stack([(group - group.mean(dim=0)).square().sum() for group in stacked]).sum()


def trace_norm_penalty(stacked: Stacked) -> Tensor:
    """Σ over tensors of ‖W‖_* = Σ_i σ_i(W), W = [θ_1; …; θ_T] flattened to [T, numel]: low rank = shared subspace."""
    return torch.stack([torch.linalg.svdvals(group.flatten(1)).sum() for group in stacked]).sum()


def graph_penalty(stacked: Stacked, adjacency: Tensor) -> Tensor:
    """Σ_{s<t} A_st ‖θ_s − θ_t‖², summed over the corresponding tensors (A: [T, T], upper triangle read)."""
    upper = torch.triu(adjacency, diagonal=1)
    total = []
    for group in stacked:
        flat = group.flatten(1)  # [T, numel]
        distances = (flat[:, None, :] - flat[None, :, :]).square().sum(dim=-1)  # [T, T], ‖θ_s − θ_t‖²
        total.append((upper * distances).sum())
    return torch.stack(total).sum()


def prior_penalty(stacked: Stacked, means: list[Tensor], variance: float) -> Tensor:
    """Σ_t ‖θ_t − μ‖² / (2σ²): −log of the Gaussian prior θ_t ~ N(μ, σ² I), up to a constant."""
    return torch.stack([(group - mean).square().sum() for group, mean in zip(stacked, means, strict=True)]).sum() \
        / (2.0 * variance)


Penalty = Literal["l2", "trace_norm", "graph", "shared_prior"]
Graph = tuple[tuple[Annotated[float, Field(ge=0.0)], ...], ...]  # A, [T, T]
GraphSetting = Annotated[Graph | None, Field(
    description="graph penalty: A, symmetric, a row and a column per task, in task order; empty: 1 off the diagonal")]


@ARCHITECTURES.register("soft_sharing")
class SoftSharing(MTLModel):
    """One network per task (trunk_t + head_t, as ``single_task``), tied by ``regularizer()`` = λ·Ω(θ_1, …, θ_T).

    θ_t are task t's trunk parameters (weights, biases, norm scales), compared tensor by tensor:
        l2:           Ω = Σ_t ‖θ_t − θ̄‖²                       (pull every task to the mean)
        trace_norm:   Ω = Σ_layers ‖[θ_1; …; θ_T]‖_*             (nuclear norm of the [T, numel] stack)
        graph:        Ω = Σ_{s<t} A_st ‖θ_s − θ_t‖²              (A symmetric, ≥ 0; default 1 off the diagonal)
        shared_prior: Ω = Σ_t ‖θ_t − μ‖² / (2σ²)                 (θ_t ~ N(μ, σ²I); μ learned, σ² = prior_variance)
    With A all ones, graph = T · l2. The prior mean μ is a parameter the optimiser learns (it starts at 0 and
    its optimum for fixed θ is θ̄); it enters no task loss, so it is not a shared parameter.

    Shared parameters, for gradient-based strategies: the tied trunks (each task's loss depends only on its
    own, so the Jacobian is block-diagonal; the strategy still reweights each task's trunk gradient).
    The heads are task parameters. ``last_shared_layer`` is each trunk's last layer.
    """

    adjacency: Tensor  # [T, T], a buffer

    def __init__(self, input_shape: tuple[int, ...], heads: dict[str, int], settings: ModelConfig, *,
                 lam: Annotated[float, Field(ge=0.0, description="λ, the weight of the penalty; 0: independent "
                                                                 "networks")] = 0.01,
                 penalty: Annotated[Penalty, Field(description="Ω, how the tasks' trunks are tied")] = "l2",
                 graph: GraphSetting = None,
                 prior_variance: Annotated[float, Field(gt=0.0, description="σ² of the shared prior")] = 1.0) -> None:
        super().__init__(heads)
        if graph is not None and penalty != "graph":
            raise ConfigError(f"model.graph: graph is read only with penalty = 'graph' (penalty is {penalty!r}); "
                              f"set model.penalty = 'graph' or remove model.graph")
        self.lam, self.kind, self.prior_variance = lam, penalty, prior_variance  # kind: ``penalty()`` computes Ω
        self.networks = task_networks(input_shape, heads, settings)
        self.register_buffer("adjacency", self._adjacency(len(heads), graph))
        self.prior_mean = nn.ParameterList()
        if penalty == "shared_prior":
            first_trunk = as_networks(self.networks)[0].trunk
            self.prior_mean.extend(nn.Parameter(torch.zeros_like(p)) for p in first_trunk.parameters())

    def _adjacency(self, n_tasks: int, graph: Graph | None) -> Tensor:
        if graph is None:
            return torch.ones(n_tasks, n_tasks) - torch.eye(n_tasks)
        if any(len(row) != n_tasks for row in graph) or len(graph) != n_tasks:
            raise ConfigError(f"model.graph has {len(graph)} rows of lengths {[len(r) for r in graph]}; "
                              f"these {n_tasks} tasks need a {n_tasks}×{n_tasks} matrix (rows and columns in task "
                              f"order: {', '.join(self.task_names)})")
        if any(graph[s][t] != graph[t][s] for s in range(n_tasks) for t in range(s)):  # values, not tensors: a
            raise ConfigError("model.graph must be symmetric: A_st is the tie between tasks s and t either way")
        return torch.tensor(graph, dtype=torch.float32)  # model is first built on the meta device, to count its size

    def forward(self, x: Tensor) -> dict[str, Tensor]:
        return {name: network(x)[name] for name, network in zip(self.task_names, self.networks, strict=True)}

    def stacked_trunks(self) -> Stacked:
        """The tasks' corresponding trunk tensors, each stacked to [T, *shape]."""
        trunks = [list(network.trunk.parameters()) for network in as_networks(self.networks)]
        return [torch.stack(group) for group in zip(*trunks, strict=True)]

    def penalty(self) -> Tensor:
        """Ω(θ_1, …, θ_T), the penalty before the weight λ."""
        stacked, kind = self.stacked_trunks(), self.kind
        if kind == "trace_norm":
            return trace_norm_penalty(stacked)
        if kind == "graph":
            return graph_penalty(stacked, self.adjacency)
        if kind == "shared_prior":
            return prior_penalty(stacked, list(self.prior_mean), self.prior_variance)
        return l2_penalty(stacked)

    def regularizer(self) -> Tensor | None:
        return None if self.lam == 0 else self.lam * self.penalty()

    def inspect(self, x: Tensor) -> dict[str, Any]:
        """How far apart the tasks' trunks are: ``{"distances": {"a|b": ‖θ_a − θ_b‖}, "relative_distances":
        {"a|b": ‖θ_a − θ_b‖ / ((‖θ_a‖ + ‖θ_b‖) / 2)}}`` over all trunk tensors (the batch is not needed)."""
        flat = torch.cat([group.detach().double().flatten(1) for group in self.stacked_trunks()], dim=1)  # [T, n]
        sizes = torch.linalg.vector_norm(flat, dim=1)
        names = self.task_names
        distances, relative = {}, {}
        for a in range(len(names)):
            for b in range(a + 1, len(names)):
                distance = float(torch.linalg.vector_norm(flat[a] - flat[b]))
                scale = float(sizes[a] + sizes[b]) / 2
                distances[f"{names[a]}|{names[b]}"] = distance
                relative[f"{names[a]}|{names[b]}"] = distance / scale if scale > 0 else 0.0
        return {"distances": distances, "relative_distances": relative}

    def shared_parameters(self) -> Iterator[nn.Parameter]:
        for network in as_networks(self.networks):
            yield from network.trunk.parameters()

    def last_shared_layer(self) -> list[nn.Parameter]:
        return networks_last_layers(self.networks)
