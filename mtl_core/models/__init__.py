"""The models stage: architectures registry, trunks, and the MTLModel base."""

from mtl_core.models import hps as _hps  # noqa: F401  (registers "hps")
from mtl_core.models.base import MTLModel
from mtl_core.models.registry import ARCHITECTURES, build_model

__all__ = ["ARCHITECTURES", "MTLModel", "build_model"]
