"""MoCo: Fernando et al., 2023, "Mitigating Gradient Bias in Multi-objective Learning: A Provably Convergent Approach" (ICLR), Algorithm 1."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

import torch
from pydantic import Field
from torch import Tensor

from mtl_core.errors import ConfigError
from mtl_core.weighting.base import GradientStrategy, Jacobian, Space, per_coordinate_state, task_rows
from mtl_core.weighting.registry import STRATEGIES


def project_to_simplex(vector: Tensor) -> Tensor:
    """Euclidean projection onto {λ ≥ 0, Σλ = 1} (sort and threshold: Held, Wolfe & Crowder 1974)."""
    ordered = vector.sort(descending=True).values
    cumulative = ordered.cumsum(0) - 1.0
    ranks = torch.arange(1, len(vector) + 1, dtype=vector.dtype, device=vector.device)
    above = (ordered - cumulative / ranks > 0).nonzero()
    support = int(above.max()) if len(above) else 0  # the last index still above the threshold
    return (vector - cumulative[support] / (support + 1)).clamp(min=0.0)


@STRATEGIES.register("moco")
class MoCo(GradientStrategy):
    """Track each task's gradient with a moving average, then weigh the tracked gradients toward their min-norm mix.

    Algorithm 1 (k = 1, 2, …; y_t and λ start at 0 and 1/T):
    y_t ← y_t − β_k (y_t − g_t),  λ ← Π_Δ(λ − γ_k (Y Yᵀ + ρI) λ),  direction = λᵀY,
    with β_k = β / k^β_sigma and γ_k = γ / k^γ_sigma (the decaying step sizes of the paper's analysis).
    A task absent from the batch keeps its y_t and λ_t; the present tasks' λ is renormalised for the step.
    """

    claims = frozenset({"finite", "task_order_equivariant"})

    def __init__(
        self,
        beta: Annotated[float, Field(gt=0.0, le=1.0, description="Step of the gradient tracking, β_k = β / k^β_sigma")] = 0.5,
        beta_sigma: Annotated[float, Field(ge=0.0, description="Decay exponent of the tracking step")] = 0.5,
        gamma: Annotated[float, Field(gt=0.0, description="Step of the λ update, γ_k = γ / k^γ_sigma")] = 0.1,
        gamma_sigma: Annotated[float, Field(ge=0.0, description="Decay exponent of the λ step")] = 0.5,
        rho: Annotated[float, Field(ge=0.0, description="Regularisation ρ of the λ problem (ρ‖λ‖²/2)")] = 0.0,
        space: Space = "parameters",
    ) -> None:
        self.beta, self.beta_sigma = beta, beta_sigma
        self.gamma, self.gamma_sigma = gamma, gamma_sigma
        self.rho = rho
        if space == "representation":
            raise ConfigError(per_coordinate_state("MoCo"))
        self.space = space

    def reset(self) -> None:
        self.n_tasks_: int = 0  # the run's task count, from check_tasks (else grown from the rows seen)
        self.tracked_: Tensor | None = None  # [n_tasks, P], y_t
        self.lambdas_: Tensor | None = None  # [n_tasks], λ
        self.step_ = 0

    def check_tasks(self, task_names: Sequence[str]) -> None:
        self.n_tasks_ = len(task_names)

    def aggregate(self, jacobian: Jacobian, rows: Sequence[int] | None = None) -> Tensor:  # [T, P] -> [P]
        tasks = task_rows(rows, len(jacobian))
        tracked, lambdas = self._state(jacobian, tasks)
        self.step_ += 1
        beta = self.beta / self.step_**self.beta_sigma
        gamma = self.gamma / self.step_**self.gamma_sigma
        current = tracked[tasks] - beta * (tracked[tasks] - jacobian.detach())  # y_t
        tracked[tasks] = current
        mass = float(lambdas[tasks].sum())
        weights = lambdas[tasks] / mass if mass > 0 else torch.full((len(tasks),), 1.0 / len(tasks), dtype=torch.float64)
        precise = current.to(torch.float64)
        regularised = precise @ precise.T + self.rho * torch.eye(len(tasks), dtype=torch.float64)
        weights = project_to_simplex(weights - gamma * regularised.cpu() @ weights)
        lambdas[tasks] = weights * mass if mass > 0 else weights * 0.0
        return (weights.to(precise.device) @ precise).to(jacobian.dtype)

    def _state(self, jacobian: Jacobian, rows: list[int]) -> tuple[Tensor, Tensor]:
        """y [n, P] and λ [n] (float64, CPU), created at the first call of a run (or when the shapes change)."""
        tracked, lambdas = self.tracked_, self.lambdas_
        if tracked is None or lambdas is None or tracked.shape[1] != jacobian.shape[1] or max(rows) >= len(tracked):
            n_tasks = max(self.n_tasks_, max(rows) + 1)
            tracked = torch.zeros(n_tasks, jacobian.shape[1], dtype=jacobian.dtype, device=jacobian.device)
            lambdas = torch.full((n_tasks,), 1.0 / n_tasks, dtype=torch.float64)
            self.tracked_, self.lambdas_ = tracked, lambdas
        return tracked, lambdas
