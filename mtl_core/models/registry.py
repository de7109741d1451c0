"""The architectures registry: ``available``, ``create`` and ``describe``, and ``build_model`` from settings.

An architecture's own hyper-parameters are the keyword-only arguments of its ``__init__`` after
``(input_shape, heads, settings)``, annotated with their pydantic limits; in a config they are the
extra keys of ``[model]``. ``settings`` is the ``ModelConfig`` with the trunk every architecture shares.
"""

from __future__ import annotations

import inspect
from functools import partial
from typing import Any

import torch
from torch import nn
from pydantic import BaseModel

from mtl_core import limits
from mtl_core.bounds import check_limits
from mtl_core.config import ModelConfig
from mtl_core.errors import ConfigError
from mtl_core.registry import Registry
from mtl_core.settings import hparam_model

ARCHITECTURES = Registry[Any]("architecture")
MAX_ACTIVATIONS = limits.MAX_ACTIVATIONS  # values one forward pass may produce (module-level: tests lower it)
COMMON = tuple(ModelConfig.model_fields)  # the keys of [model] that every architecture takes


def available() -> list[str]:
    """Registered architecture names, sorted."""
    return ARCHITECTURES.available()


def create(name: str, input_shape: int | tuple[int, ...], heads: dict[str, int], settings: ModelConfig | None = None,
           **hparams: Any) -> Any:
    """The architecture ``name`` with one output of the given width per task, its hyper-parameters validated.

    An int ``input_shape`` means a table of that many features; ``settings`` (the trunk) defaults to
    ``ModelConfig``'s defaults. Errors name ``model.<key>``, as in a config file.

    >>> len(create("mmoe", 3, {"y": 1}, n_experts=2).experts)
    2
    """
    shape = (input_shape,) if isinstance(input_shape, int) else tuple(input_shape)
    cls = ARCHITECTURES.get(name, key="model.architecture")
    trunk = settings if settings is not None else ModelConfig(architecture=name)
    return cls(shape, heads, trunk, **ARCHITECTURES.validate(name, hparams, "model", common=COMMON))


def build_model(settings: ModelConfig, input_shape: int | tuple[int, ...], heads: dict[str, int]) -> Any:
    """The architecture ``settings.architecture``, its extra keys of ``[model]`` as hyper-parameters.

    Its size is checked first, on PyTorch's ``meta`` device (shapes only, no memory): a model of more than
    MAX_PARAMETERS parameters is refused before any weight is allocated.
    """
    check_size(settings, input_shape, heads)
    model = create(settings.architecture, input_shape, heads, settings, **settings.hparams)
    model.register_forward_pre_hook(partial(_check_batch, sizes=_values_per_row(settings, input_shape, heads)))
    return model


def activations_per_row(settings: ModelConfig, input_shape: int | tuple[int, ...], heads: dict[str, int]) -> int:
    """How many values a forward pass produces per input row (every layer's output), found on the ``meta`` device.

    >>> activations_per_row(ModelConfig(hidden=(4,)), 3, {"y": 1})  # Linear 4, ReLU 4, head 1
    9
    """
    return _values_per_row(settings, input_shape, heads)[0]


def _values_per_row(settings: ModelConfig, input_shape: int | tuple[int, ...],
                    heads: dict[str, int]) -> tuple[int, int]:
    """Per input row: the values of every layer's output (kept for the backward pass), and of the largest one."""
    shape = (input_shape,) if isinstance(input_shape, int) else tuple(input_shape)
    total = widest = 0

    def count(module: nn.Module, inputs: Any, output: Any) -> None:
        nonlocal total, widest
        size = sum(item.numel() for item in (output if isinstance(output, tuple | list) else [output])
                   if isinstance(item, torch.Tensor))
        total, widest = total + size, max(widest, size)

    with torch.device("meta"):
        model = create(settings.architecture, shape, heads, settings, **settings.hparams)
        for module in model.modules():
            if not any(True for _ in module.children()):
                module.register_forward_hook(count)
        model(torch.empty(2, *shape))  # two rows: batch norm needs more than one
    return total // 2, widest // 2


def _check_batch(module: nn.Module, args: tuple[Any, ...], *, sizes: tuple[int, int]) -> None:
    """Refuse a batch whose forward pass would hold more than MAX_ACTIVATIONS values, before it runs.

    Training keeps every layer's output for the backward pass; without gradients (evaluation) only about two
    layers' outputs are alive at once.
    """
    rows = args[0].shape[0] if args and isinstance(args[0], torch.Tensor) and args[0].dim() > 0 else 0
    _refuse(rows, _per_row(sizes, torch.is_grad_enabled()))


def _per_row(sizes: tuple[int, int], gradients: bool) -> int:
    return max(1, sizes[0] if gradients else min(sizes[0], 2 * sizes[1]))


def _refuse(rows: int, per_row: int) -> None:
    if rows * per_row > MAX_ACTIVATIONS:
        raise ConfigError(f"train.batch_size: {rows:,} rows at once through this model make {rows * per_row:,} "
                          f"values ({per_row:,} per row), past {MAX_ACTIVATIONS:,} (about "
                          f"{MAX_ACTIVATIONS * 4 // 2**20:,} MB, MTL_MAX_ACTIVATIONS); set train.batch_size to at most "
                          f"{max(1, MAX_ACTIVATIONS // per_row):,}, or use narrower layers")


def _sizes(model: nn.Module) -> tuple[int, int] | None:
    """The (all layers, widest layer) values per row that ``build_model`` measured for ``model``, if it made it."""
    for hook in model._forward_pre_hooks.values():
        if isinstance(hook, partial) and hook.func is _check_batch:
            return tuple(hook.keywords["sizes"])  # type: ignore[return-value]
    return None


def rows_at_once(model: nn.Module, default: int, gradients: bool = False) -> int:
    """The most rows one forward pass of ``model`` may take within MAX_ACTIVATIONS, at most ``default``.

    Without ``gradients``, evaluation and prediction cut a split into pieces of this size, so a wide model (a
    convolutional trunk on large images) evaluates in smaller pieces instead of being refused; with them, a
    full batch (``train.batch_size = 0``) of a large table trains in the largest batches the budget allows.
    A model not made by ``build_model`` (no batch check) takes ``default``.
    """
    sizes = _sizes(model)
    return default if sizes is None else max(1, min(default, MAX_ACTIVATIONS // _per_row(sizes, gradients)))


def check_training_rows(model: nn.Module, rows: int) -> None:
    """ConfigError (naming train.batch_size and the largest batch that fits) when ``rows`` rows trained at once
    would pass MAX_ACTIVATIONS: checked before a run starts, whichever route its batches take through the model
    (the representation space of gradient methods calls the model's parts, not its forward)."""
    sizes = _sizes(model)
    if sizes is not None:
        _refuse(rows, _per_row(sizes, gradients=True))


def parameter_count(settings: ModelConfig, input_shape: int | tuple[int, ...], heads: dict[str, int]) -> int:
    """How many parameters the model has, counted on the ``meta`` device: nothing is allocated.

    >>> parameter_count(ModelConfig(hidden=(4,)), 3, {"y": 1})  # (3·4 + 4) + (4·1 + 1)
    21
    """
    with torch.device("meta"):
        model = create(settings.architecture, input_shape, heads, settings, **settings.hparams)
    return sum(parameter.numel() for parameter in model.parameters())


def check_size(settings: ModelConfig, input_shape: int | tuple[int, ...], heads: dict[str, int]) -> None:
    """ConfigError naming the count, the limit and its variable when the model is past MAX_PARAMETERS."""
    count = parameter_count(settings, input_shape, heads)
    if count > limits.MAX_PARAMETERS:
        raise ConfigError(f"model: {settings.architecture!r} with hidden = {list(settings.hidden)} (trunk "
                          f"{settings.trunk}) on {_inputs(input_shape)} and {len(heads)} tasks has {count:,} "
                          f"parameters, past the limit of {limits.describe('MAX_PARAMETERS')}. Use fewer units, "
                          f"layers or experts")


def _inputs(input_shape: int | tuple[int, ...]) -> str:
    shape = (input_shape,) if isinstance(input_shape, int) else tuple(input_shape)
    return f"{shape[0]:,} features" if len(shape) == 1 else f"inputs of shape {' × '.join(map(str, shape))}"


def architecture_params(settings: ModelConfig) -> BaseModel:
    """The architecture's own hyper-parameters (the extra keys of ``[model]``), validated, defaults filled in.

    A check that needs the tasks or several keys together (soft sharing's ``graph``) runs when the model is built.
    """
    cls = ARCHITECTURES.get(settings.architecture, key="model.architecture")
    check_limits(hparam_model(cls), settings.hparams, "model")
    values = ARCHITECTURES.validate(settings.architecture, settings.hparams, "model", common=COMMON)
    return hparam_model(cls).model_construct(**values)


def describe(name: str | None = None) -> list[dict[str, Any]]:
    """For menus and forms: each architecture's name, one-line idea, and its hyper-parameters' JSON schema.

    ``hparams`` is the schema, as in ``weighting.describe``; ``params`` is the same schema under its older key.

    >>> [item["name"] for item in describe()][:2]
    ['cgc', 'cross_stitch']
    """
    items = []
    for item in [name] if name is not None else available():
        cls = ARCHITECTURES.get(item, key="model.architecture")
        schema = ARCHITECTURES.schema(item)
        items.append({"name": item, "summary": (inspect.getdoc(cls) or "").split("\n")[0],
                      "hparams": schema, "params": ARCHITECTURES.schema(item)})  # two copies: a caller may edit one
    return items


def describe_architectures() -> list[dict[str, Any]]:
    """``describe()`` of every architecture (the name the pages use)."""
    return describe()
