"""The architectures registry and the one function that builds a model from settings."""

from __future__ import annotations

from typing import Any

from mtl_core.config import ModelConfig
from mtl_core.registry import Registry

ARCHITECTURES = Registry[Any]("architecture")


def build_model(settings: ModelConfig, in_features: int, heads: dict[str, int]) -> Any:
    """The architecture ``settings.architecture`` with one output of the given width per task."""
    return ARCHITECTURES.get(settings.architecture, key="model.architecture")(in_features, heads, settings)
