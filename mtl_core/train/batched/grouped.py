"""N models of one architecture as one: parameters stacked on a leading model axis, a grouped forward pass.

Every layer of the supported models acts on the N models at once: a Linear layer is one batched matrix
product (``baddbmm``) of [N, B, in] with the stacked weights [N, out, in], activations are elementwise,
layer norm normalises each row and applies model n's own scale and shift, and dropout draws model n's
mask from model n's own generator, in the order that model's separate run draws it. Model n's outputs
depend on model n's parameters only, so the gradient of Σ_n L_n with respect to the stacked weights is,
slice by slice, each model's own gradient.

The supported models (``GROUPED_ARCHITECTURES``) are MLP trunks with heads: ``hps`` (and ``routed``, which
is hps with routed labels) and ``single_task`` (one hps network per task).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mtl_core.models import MTLModel
from mtl_core.models.hps import HardParameterSharing
from mtl_core.models.layers import Dropout
from mtl_core.models.single_task import SingleTask
from mtl_core.models.trunks import ACTIVATIONS

GROUPED_ARCHITECTURES = ("hps", "routed", "single_task")
Outputs = dict[str, Tensor]  # {task: [N, B, out]}


class StackedModels:
    """The parameters of N models as leaf tensors [N, ...], their grouped forward pass, and the way back to
    N ordinary models (for the final evaluation, which then runs exactly as a separate run's)."""

    def __init__(self, models: Sequence[MTLModel]) -> None:
        self.models = list(models)
        self.template = self.models[0]
        by_model = [dict(model.named_parameters()) for model in self.models]
        self.parameters: dict[str, Tensor] = {
            name: torch.stack([parameters[name].detach() for parameters in by_model]).requires_grad_(True)
            for name in by_model[0]
        }
        self.generators = [_dropout_generator(model) for model in self.models]

    def __len__(self) -> int:
        return len(self.models)

    def forward(self, x: Tensor, training: bool) -> Outputs:
        """Outputs of every model for ``x`` [N, B, ...], model n reading batch n (``expand`` one batch for all)."""
        return _model_forward(self.template, "", self, x, training)

    def snapshot(self, index: int) -> dict[str, Tensor]:
        """A copy of model ``index``'s parameters, named as in its state_dict."""
        return {name: value[index].detach().clone() for name, value in self.parameters.items()}

    def unstacked(self, index: int, state: dict[str, Tensor] | None = None) -> MTLModel:
        """Model ``index`` as an ordinary module holding ``state`` (default: its current parameters)."""
        model = self.models[index]
        model.load_state_dict(state if state is not None else self.snapshot(index))
        return model

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

    def clip_grad_norm_(self, max_norm: float) -> None:
        """``torch.nn.utils.clip_grad_norm_`` per model: g_n ← g_n · min(1, max_norm / (‖g_n‖₂ + 1e-6))."""
        grads = [value.grad for value in self.parameters.values() if value.grad is not None]
        if not grads:
            return
        norms = torch.stack([torch.linalg.vector_norm(grad.flatten(1), 2, dim=1) for grad in grads])  # [P, N]
        total = torch.linalg.vector_norm(norms, 2, dim=0)  # [N]
        scale = torch.clamp(max_norm / (total + 1e-6), max=1.0)
        for grad in grads:
            grad.mul_(scale.view(-1, *([1] * (grad.dim() - 1))))


def _dropout_generator(model: nn.Module) -> torch.Generator | None:
    """The generator the model's Dropout layers draw from (one per run, shared by its layers)."""
    return next((module.generator for module in model.modules() if isinstance(module, Dropout)), None)


def _model_forward(model: nn.Module, prefix: str, stack: StackedModels, x: Tensor, training: bool) -> Outputs:
    """The grouped form of ``model.forward`` for the supported architectures."""
    if isinstance(model, SingleTask):
        outputs: Outputs = {}
        for index, (name, network) in enumerate(zip(model.task_names, model.networks, strict=True)):
            outputs[name] = _model_forward(network, f"{prefix}networks.{index}.", stack, x, training)[name]
        return outputs
    assert isinstance(model, HardParameterSharing), f"no grouped forward for {type(model).__name__}"
    shared = _sequential_forward(model.trunk, f"{prefix}trunk.", stack, x.flatten(2), training)
    return {name: _linear(stack, f"{prefix}heads.{index}.", shared) for index, name in enumerate(model.task_names)}


def _sequential_forward(trunk: nn.Sequential, prefix: str, stack: StackedModels, x: Tensor, training: bool) -> Tensor:
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


def _linear(stack: StackedModels, key: str, x: Tensor) -> Tensor:
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
