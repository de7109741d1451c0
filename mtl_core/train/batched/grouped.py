"""The grouped forward pass (``engine = "grouped"``): one batched operation per layer for all N models.

Every layer of the supported models acts on the N models at once: a Linear layer is one batched matrix
product (``baddbmm``) of [N, B, in] with the stacked weights [N, out, in], activations are elementwise,
layer norm normalises each row and applies model n's own scale and shift, and dropout draws model n's
mask from model n's own generator, in the order that model's separate run draws it. Model n's outputs
depend on model n's parameters only, so the gradient of Σ_n L_n with respect to the stacked weights is,
slice by slice, each model's own gradient.

The supported models (``GROUPED_ARCHITECTURES``) are MLP trunks with heads: ``hps`` (and ``routed``, which
is hps with routed labels) and ``single_task`` (one hps network per task). Batched matrix products round
differently from one product per model (about 1e-7 relative per step), so this engine equals separate runs to
float rounding only, and rounding differences can grow in a long, chaotic run; the default engine, which runs
each model's own forward pass, gives the separate runs' numbers exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mtl_core.models.hps import HardParameterSharing
from mtl_core.models.layers import Dropout
from mtl_core.models.single_task import SingleTask
from mtl_core.models.trunks import ACTIVATIONS

GROUPED_ARCHITECTURES = ("hps", "routed", "single_task")
Outputs = dict[str, Tensor]  # {task: [N, B, out]}


@dataclass(frozen=True, slots=True)
class GroupedForward:
    """The forward pass of N models of ``template``'s architecture on the stacked ``parameters`` ([N, ...] each)."""

    template: nn.Module
    parameters: dict[str, Tensor]
    generators: list[torch.Generator | None]  # model n's dropout generator

    def __call__(self, x: Tensor, training: bool) -> Outputs:
        """Outputs of every model for ``x`` [N, B, ...], model n reading batch n (``expand`` one batch for all)."""
        return _model_forward(self.template, "", self, x, training)


def dropout_generator(model: nn.Module) -> torch.Generator | None:
    """The generator the model's Dropout layers draw from (one per run, shared by its layers)."""
    return next((module.generator for module in model.modules() if isinstance(module, Dropout)), None)


def _model_forward(model: nn.Module, prefix: str, stack: GroupedForward, x: Tensor, training: bool) -> Outputs:
    """The grouped form of ``model.forward`` for the supported architectures."""
    if isinstance(model, SingleTask):
        outputs: Outputs = {}
        for index, (name, network) in enumerate(zip(model.task_names, model.networks, strict=True)):
            outputs[name] = _model_forward(network, f"{prefix}networks.{index}.", stack, x, training)[name]
        return outputs
    assert isinstance(model, HardParameterSharing), f"no grouped forward for {type(model).__name__}"
    shared = _sequential_forward(model.trunk, f"{prefix}trunk.", stack, x.flatten(2), training)
    return {name: _linear(stack, f"{prefix}heads.{index}.", shared) for index, name in enumerate(model.task_names)}


def _sequential_forward(trunk: nn.Sequential, prefix: str, stack: GroupedForward, x: Tensor, training: bool) -> Tensor:
    """An MLP trunk, layer by layer, on [N, B, F]."""
    for index, layer in enumerate(trunk):
        key = f"{prefix}{index}."
        if isinstance(layer, nn.Linear):
            x = _linear(stack, key, x)
        elif isinstance(layer, nn.LayerNorm):
            normalised = F.layer_norm(x, layer.normalized_shape, None, None, layer.eps)
            x = normalised * stack.parameters[key + "weight"].unsqueeze(1) + stack.parameters[key + "bias"].unsqueeze(1)
        elif isinstance(layer, Dropout):
            x = _dropout(x, layer.p, stack.generators, training)
        else:
            assert type(layer) in ACTIVATIONS.values(), f"no grouped form of {type(layer).__name__}"
            x = layer(x)
    return x


def _linear(stack: GroupedForward, key: str, x: Tensor) -> Tensor:
    """y_n = x_n W_nᵀ + b_n for every model n: [N, B, in] → [N, B, out]."""
    weight, bias = stack.parameters[key + "weight"], stack.parameters.get(key + "bias")
    if bias is None:
        return torch.bmm(x, weight.transpose(1, 2))
    return torch.baddbmm(bias.unsqueeze(1), x, weight.transpose(1, 2))


def _dropout(x: Tensor, p: float, generators: Sequence[torch.Generator | None], training: bool) -> Tensor:
    """Inverted dropout with model n's mask drawn from model n's generator, as ``layers.Dropout`` draws it."""
    if not training or p == 0.0:
        return x
    keep = torch.stack([torch.rand(x.shape[1:], generator=generator, device=x.device, dtype=x.dtype) >= p
                        for generator in generators])
    return x * keep / (1.0 - p)
