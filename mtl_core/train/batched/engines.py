"""How the N stacked models compute their losses and outputs: each its own forward pass (``exact``, the
default), or one grouped pass for all (``grouped``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, TypeAlias

import torch
from torch import Tensor, nn

from mtl_core.data import MTLDataset, Split
from mtl_core.train.batched.evaluation import Outputs, masked_losses
from mtl_core.train.batched.grouped import GroupedForward, dropout_generator
from mtl_core.train.batched.stack import ParameterStack
from mtl_core.train.evaluation import CHUNK_ROWS
from mtl_core.train.losses import stacked_losses

EngineName: TypeAlias = Literal["exact", "grouped"]
ENGINES: tuple[EngineName, ...] = ("exact", "grouped")


@dataclass(frozen=True, slots=True)
class StepLosses:
    """One step's losses: per running model [T] in its graph; all models' values and label counts, [N, T] on the CPU."""

    losses: dict[int, Tensor]
    values: Tensor
    counts: Tensor
    representations: dict[int, Tensor | None]  # the shared representation, for strategies that weigh in it


class Engine(Protocol):
    """What the batched trainer asks of an engine."""

    def train(self) -> None:
        """Put the models in training mode."""

    def losses(self, train: Split, orders: Sequence[Tensor] | None, start: int, batch: int,
               running: Sequence[int], in_representation: bool) -> StepLosses:
        """The running models' losses on their batches: rows ``order_n[start:start + batch]`` (or every row)."""

    def outputs(self, split: Split, running: Sequence[int]) -> list[Outputs | None]:
        """Each running model's raw outputs on ``split``, on the CPU (None for the others)."""

    def finish_gradients(self, running: Sequence[int], clip: float | None) -> None:
        """Clip each running model's gradient to norm ``clip`` (when given) and leave it on the stacked tensors."""


class ExactEngine:
    """Each model runs its own forward pass on its own batch, exactly as its Trainer: the same calls on the same
    values, so the same numbers bit for bit; only the optimiser step is shared, over the stacked parameters."""

    def __init__(self, stack: ParameterStack, dataset: MTLDataset, device: torch.device) -> None:
        self.stack, self.dataset, self.device = stack, dataset, device
        self.task_names = tuple(dataset.info)
        self.modules = [list(model.modules()) for model in stack.models]

    def train(self) -> None:
        for modules in self.modules:
            _set_training(modules, True)

    def losses(self, train: Split, orders: Sequence[Tensor] | None, start: int, batch: int,
               running: Sequence[int], in_representation: bool) -> StepLosses:
        self.stack.zero_model_grads()
        values = torch.zeros(len(self.stack), len(self.task_names))
        counts = torch.zeros(len(self.stack), len(self.task_names))
        losses: dict[int, Tensor] = {}
        representations: dict[int, Tensor | None] = {}
        for index in running:
            model = self.stack.models[index]
            rows = orders[index][start:start + batch] if orders is not None else slice(None)
            targets = {name: value[rows] for name, value in train.targets.items()}
            masks = {name: value[rows] for name, value in train.masks.items()}
            representation = model.encode(train.features[rows]) if in_representation else None
            outputs = model(train.features[rows]) if representation is None else model.decode(representation)
            losses[index] = stacked_losses(outputs, targets, masks, self.dataset.info)
            representations[index] = representation
            values[index] = losses[index].detach().cpu()
            counts[index] = torch.stack([masks[name].sum() for name in self.task_names]).float().cpu()
        return StepLosses(losses, values, counts, representations)

    def outputs(self, split: Split, running: Sequence[int]) -> list[Outputs | None]:
        return [model_outputs(model, modules, split, self.device) if index in running else None
                for index, (model, modules) in enumerate(zip(self.stack.models, self.modules, strict=True))]

    def finish_gradients(self, running: Sequence[int], clip: float | None) -> None:
        if clip is not None:
            for index in running:
                torch.nn.utils.clip_grad_norm_(self.stack.models[index].parameters(), clip)
        self.stack.gather_grads(running)


class GroupedEngine:
    """One grouped forward pass for all models (``grouped.py``): fewer, larger operations; equal to the separate
    runs to float rounding (batched matrix products round differently from one product per model)."""

    def __init__(self, stack: ParameterStack, dataset: MTLDataset, device: torch.device) -> None:
        self.stack, self.dataset, self.device = stack, dataset, device
        generators = [dropout_generator(model) for model in stack.models]
        self.forward = GroupedForward(stack.models[0], stack.parameters, generators)

    def train(self) -> None:
        """Nothing to do: the grouped pass is told whether it trains."""

    def losses(self, train: Split, orders: Sequence[Tensor] | None, start: int, batch: int,
               running: Sequence[int], in_representation: bool) -> StepLosses:
        assert not in_representation, "the grouped engine has no shared representation"
        n_models = len(self.stack)
        if orders is None:
            features = train.features.expand(n_models, *train.features.shape)
            targets = {name: value.expand(n_models, -1) for name, value in train.targets.items()}
            masks = {name: value.expand(n_models, -1) for name, value in train.masks.items()}
        else:
            rows = torch.stack([order[start:start + batch] for order in orders])  # [N, B]
            features = train.features[rows]
            targets = {name: value[rows] for name, value in train.targets.items()}
            masks = {name: value[rows] for name, value in train.masks.items()}
        all_losses = masked_losses(self.forward(features, training=True), targets, masks, self.dataset.info)
        counts = torch.stack([masks[name].sum(dim=1) for name in self.dataset.info], dim=1).float().cpu()
        losses = {index: all_losses[index] for index in running}
        return StepLosses(losses, all_losses.detach().cpu(), counts, dict.fromkeys(running))

    @torch.no_grad()
    def outputs(self, split: Split, running: Sequence[int]) -> list[Outputs | None]:
        if len(split) == 0:
            return [{} if index in running else None for index in range(len(self.stack))]
        chunks = []
        for start in range(0, len(split), CHUNK_ROWS):
            features = split.features[start:start + CHUNK_ROWS].to(self.device)
            chunks.append(self.forward(features.expand(len(self.stack), *features.shape), training=False))
        joined = {name: torch.cat([chunk[name].float().cpu() for chunk in chunks], dim=1) for name in chunks[0]}
        return [{name: value[index] for name, value in joined.items()} if index in running else None
                for index in range(len(self.stack))]

    def finish_gradients(self, running: Sequence[int], clip: float | None) -> None:
        if clip is not None:
            self.stack.clip_stacked_grad_norm_(clip)


@torch.no_grad()
def model_outputs(model: nn.Module, modules: Sequence[nn.Module], split: Split, device: torch.device) -> Outputs:
    """``evaluation.split_outputs(model, split, device)``: the same chunks in eval mode, on the CPU; ``modules``
    is ``list(model.modules())``, to switch modes without walking the module tree twice per call."""
    was_training = model.training
    _set_training(modules, False)
    chunks = [model(split.features[start:start + CHUNK_ROWS].to(device)) for start in range(0, len(split), CHUNK_ROWS)]
    _set_training(modules, was_training)
    names = chunks[0].keys() if chunks else ()
    return {name: torch.cat([chunk[name].float().cpu() for chunk in chunks]) for name in names}


def _set_training(modules: Sequence[nn.Module], mode: bool) -> None:
    """``model.train(mode)`` on the model's module list (``Module.train`` walks the tree and goes through
    ``Module.__setattr__`` at every call, which costs more than a small model's validation forward pass)."""
    for module in modules:
        if module.training != mode:
            object.__setattr__(module, "training", mode)


def make_engine(name: EngineName, stack: ParameterStack, dataset: MTLDataset, device: torch.device) -> Engine:
    """The engine called ``name``."""
    return ExactEngine(stack, dataset, device) if name == "exact" else GroupedEngine(stack, dataset, device)
