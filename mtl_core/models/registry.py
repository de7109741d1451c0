"""The architectures registry and the one function that builds a model from settings."""

from __future__ import annotations

import difflib
import inspect
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from mtl_core.config import ModelConfig
from mtl_core.errors import ConfigError
from mtl_core.registry import Registry

ARCHITECTURES = Registry[Any]("architecture")


class NoParams(BaseModel):
    """An architecture without hyper-parameters of its own."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def architecture_params(settings: ModelConfig) -> BaseModel:
    """The architecture's own hyper-parameters (``Params`` on its class), validated; errors name ``model.<key>``."""
    cls = ARCHITECTURES.get(settings.architecture, key="model.architecture")
    params: type[BaseModel] = getattr(cls, "Params", NoParams)
    try:
        return params.model_validate(settings.hparams)
    except ValidationError as error:
        known = ", ".join(params.model_fields) or "none"
        everything = [*ModelConfig.model_fields, *params.model_fields]
        problems = []
        for problem in error.errors():
            key = "model." + ".".join(str(part) for part in problem["loc"])
            if problem["type"] == "extra_forbidden":
                close = difflib.get_close_matches(str(problem["loc"][-1]), everything, n=1, cutoff=0.6)
                hint = f" Did you mean {close[0]!r}?" if close else ""
                problems.append(f"{key}: unknown setting for architecture {settings.architecture!r}.{hint} "
                                f"Its own settings: {known}; every architecture takes: {', '.join(ModelConfig.model_fields)}")
            else:
                problems.append(f"{key} = {problem.get('input')!r}: {problem['msg']}")
        raise ConfigError("; ".join(problems)) from None


def describe_architectures() -> list[dict[str, Any]]:
    """For menus and forms: each architecture's name, one-line idea, and its own settings' JSON schema.

    >>> [item["name"] for item in describe_architectures()][:2]
    ['cgc', 'cross_stitch']
    """
    items = []
    for name in ARCHITECTURES.names():
        cls = ARCHITECTURES.get(name)
        params: type[BaseModel] = getattr(cls, "Params", NoParams)
        items.append({"name": name, "summary": (inspect.getdoc(cls) or "").split("\n")[0],
                      "params": params.model_json_schema()})
    return items


def build_model(settings: ModelConfig, input_shape: int | tuple[int, ...], heads: dict[str, int]) -> Any:
    """The architecture ``settings.architecture`` with one output of the given width per task.

    Architectures are called as ``cls(input_shape, heads, settings, params)`` where ``params`` is
    their validated ``Params``; an int ``input_shape`` means a table of that many features.
    """
    shape = (input_shape,) if isinstance(input_shape, int) else tuple(input_shape)
    cls = ARCHITECTURES.get(settings.architecture, key="model.architecture")
    return cls(shape, heads, settings, architecture_params(settings))
