"""Weighting strategies: one file per method or family, registered by name.

``available()`` lists them, ``create(name, **hparams)`` builds one with validated
hyper-parameters, ``describe()`` gives what a menu or a form needs. Every module of this
package is imported here, so a new method file registers itself without touching any other file.
"""

import importlib
import pkgutil

from mtl_core.weighting.base import GradientStrategy, Jacobian, LossWeighting, StepContext, Strategy
from mtl_core.weighting.jacobian import gradient_norms, split_gradients, task_gradients, write_direction
from mtl_core.weighting.registry import STRATEGIES, available, create, describe

_INFRASTRUCTURE = {"base", "jacobian", "registry"}
for _module in sorted(pkgutil.iter_modules(__path__), key=lambda info: info.name):
    if _module.name not in _INFRASTRUCTURE and not _module.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_module.name}")

__all__ = [
    "STRATEGIES", "GradientStrategy", "Jacobian", "LossWeighting", "StepContext", "Strategy",
    "available", "create", "describe", "gradient_norms", "split_gradients", "task_gradients", "write_direction",
]
