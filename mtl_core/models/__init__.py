"""The models stage: architectures registry, trunks, and the MTLModel base.

``available()`` lists the architectures, ``create(name, input_shape, heads, settings, **hparams)`` builds one
with validated hyper-parameters, ``describe()`` gives what a menu or a form needs. Every module of this
package is imported here, so a new architecture file registers itself.
"""

import importlib
import pkgutil

from mtl_core.models.base import MTLModel
from mtl_core.models.registry import (
    ARCHITECTURES, architecture_params, available, build_model, create, describe, describe_architectures,
)

_INFRASTRUCTURE = {"base", "registry", "layers", "trunks"}
for _module in sorted(pkgutil.iter_modules(__path__), key=lambda info: info.name):
    if _module.name not in _INFRASTRUCTURE and not _module.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_module.name}")

__all__ = [
    "ARCHITECTURES", "MTLModel", "architecture_params", "available", "build_model", "create", "describe",
    "describe_architectures",
]
