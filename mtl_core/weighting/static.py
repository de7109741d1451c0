"""Equal and static loss weights: the baselines every other strategy is compared with."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

import torch
from pydantic import Field

from mtl_core.errors import ConfigError
from mtl_core.weighting.base import Losses, LossWeighting, StepContext
from mtl_core.weighting.registry import STRATEGIES


@STRATEGIES.register("equal")
class Equal(LossWeighting):
    """Every task weighs 1: total = Σ_t L_t, the plain sum of the task losses.

    This is the "simple sum of losses" of the two-head wine model the project started from.
    """

    claims = frozenset({"task_order_invariant"})

    def __init__(self) -> None:
        pass

    def weights(self, losses: Losses, context: StepContext) -> torch.Tensor:
        return torch.ones_like(losses)

    def combine(self, losses: Losses, context: StepContext) -> tuple[torch.Tensor, torch.Tensor]:
        """Σ_t L_t as one sum (1 · L_t = L_t exactly, so the value and gradients are those of the weighted sum)."""
        return losses.sum(), torch.ones_like(losses).detach()


Weight = Annotated[float, Field(ge=0.0)]


@STRATEGIES.register("static")
class Static(LossWeighting):
    """Fixed weights set by hand: total = Σ_t λ_t L_t, λ given per task (a list in task order, or a table by name)."""

    def __init__(self, weights: list[Weight] | dict[str, Weight] | None = None) -> None:
        self.weights_by_task = weights
        self.weights_: torch.Tensor | None = None

    def hparams(self) -> dict[str, object]:
        return {"weights": self.weights_by_task}

    def check_tasks(self, task_names: Sequence[str]) -> None:
        given = self.weights_by_task
        if given is None:
            self.weights_ = torch.ones(len(task_names))
            return
        if isinstance(given, dict):
            unknown = sorted(set(given) - set(task_names))
            if unknown:
                raise ConfigError(f"strategy.weights.{unknown[0]}: no task of that name (tasks: {', '.join(task_names)})")
            values = [float(given.get(name, 1.0)) for name in task_names]
        else:
            if len(given) != len(task_names):
                raise ConfigError(
                    f"strategy.weights = {list(given)} has {len(given)} entries for {len(task_names)} tasks "
                    f"({', '.join(task_names)}); give one weight per task"
                )
            values = [float(value) for value in given]
        if sum(values) <= 0:
            raise ConfigError(f"strategy.weights = {values}: at least one weight must be above 0")
        self.weights_ = torch.tensor(values)

    def weights(self, losses: Losses, context: StepContext) -> torch.Tensor:
        if self.weights_ is None:
            self.check_tasks(context.task_names)
        assert self.weights_ is not None
        return self.weights_.to(device=losses.device, dtype=losses.dtype)
