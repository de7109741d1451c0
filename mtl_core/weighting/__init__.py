"""Weighting strategies: one file per method or family, registered by name.

``available()`` lists them, ``create(name, **hparams)`` builds one with validated
hyper-parameters, ``describe()`` gives what a menu or a form needs.
"""

from mtl_core.weighting import static as _static  # noqa: F401  (registers "equal", "static")
from mtl_core.weighting.base import GradientStrategy, Jacobian, LossWeighting, StepContext, Strategy
from mtl_core.weighting.jacobian import gradient_norms, task_gradients, write_direction
from mtl_core.weighting.registry import STRATEGIES, available, create, describe

__all__ = [
    "STRATEGIES", "GradientStrategy", "Jacobian", "LossWeighting", "StepContext", "Strategy",
    "available", "create", "describe", "gradient_norms", "task_gradients", "write_direction",
]
