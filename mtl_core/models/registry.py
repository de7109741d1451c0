"""The architectures registry: ``available``, ``create`` and ``describe``, and ``build_model`` from settings.

An architecture's own hyper-parameters are the keyword-only arguments of its ``__init__`` after
``(input_shape, heads, settings)``, annotated with their pydantic limits; in a config they are the
extra keys of ``[model]``. ``settings`` is the ``ModelConfig`` with the trunk every architecture shares.
"""

from __future__ import annotations

import inspect
from typing import Any

from pydantic import BaseModel

from mtl_core.config import ModelConfig
from mtl_core.registry import Registry
from mtl_core.settings import hparam_model

ARCHITECTURES = Registry[Any]("architecture")
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
    """The architecture ``settings.architecture``, its extra keys of ``[model]`` as hyper-parameters."""
    return create(settings.architecture, input_shape, heads, settings, **settings.hparams)


def architecture_params(settings: ModelConfig) -> BaseModel:
    """The architecture's own hyper-parameters (the extra keys of ``[model]``), validated, defaults filled in.

    A check that needs the tasks or several keys together (soft sharing's ``graph``) runs when the model is built.
    """
    cls = ARCHITECTURES.get(settings.architecture, key="model.architecture")
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
