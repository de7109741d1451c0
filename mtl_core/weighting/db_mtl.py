"""DB-MTL: Lin et al., 2023, "Dual-Balancing for Multi-Task Learning", Section 3 (Eqs. 2–4) and Algorithm 1."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, ClassVar

import torch
from pydantic import Field
from torch import Tensor

from mtl_core.errors import ConfigError
from mtl_core.weighting.base import GradientStrategy, Jacobian, Space, per_coordinate_state, task_rows
from mtl_core.weighting.registry import STRATEGIES


@STRATEGIES.register("db_mtl")
class DBMTL(GradientStrategy):
    """Balance loss scales with a log transform and gradient magnitudes by scaling every task's EMA gradient to the largest.

    Loss-scale balancing: the rows are ∇ log L_t = ∇L_t / L_t (the class asks for them with ``log_losses``).
    Gradient-magnitude balancing (k = 1, 2, …; ĝ_t starts at 0):
    ĝ_t ← β_k ĝ_t + (1 − β_k) g_t with β_k = β / k^β_sigma,  direction = Σ_t (max_s ‖ĝ_s‖ / ‖ĝ_t‖) ĝ_t.
    A task absent from the batch keeps its ĝ_t; a zero ĝ_t adds nothing.
    """

    claims = frozenset({"finite", "task_order_equivariant"})
    log_losses: ClassVar[bool] = True  # the rows it wants are the gradients of log L_t, not of L_t

    def __init__(
        self,
        beta: Annotated[float, Field(ge=0.0, lt=1.0, description="EMA factor of the task gradients, β_k = β / k^β_sigma")] = 0.9,
        beta_sigma: Annotated[float, Field(ge=0.0, description="Decay exponent of the EMA factor")] = 0.5,
        space: Space = "parameters",
    ) -> None:
        self.beta = beta
        self.beta_sigma = beta_sigma
        if space == "representation":
            raise ConfigError(per_coordinate_state("DB-MTL"))
        self.space = space

    def reset(self) -> None:
        self.n_tasks_: int = 0  # the run's task count, from check_tasks (else taken from the rows seen)
        self.averaged_: Tensor | None = None  # [n_tasks, P], ĝ_t
        self.step_ = 0

    def check_tasks(self, task_names: Sequence[str]) -> None:
        self.n_tasks_ = len(task_names)

    def aggregate(self, jacobian: Jacobian, rows: Sequence[int] | None = None) -> Tensor:  # [T, P] -> [P]
        tasks = task_rows(rows, len(jacobian))
        averaged = self._state(jacobian, tasks)
        self.step_ += 1
        beta = self.beta / self.step_**self.beta_sigma
        current = jacobian.detach() + beta * (averaged[tasks] - jacobian.detach())  # β ĝ + (1 − β) g
        averaged[tasks] = current
        norms = current.to(torch.float64).norm(dim=1)  # [T]
        scales = torch.where(norms > 0, norms.max() / norms, torch.zeros_like(norms))
        return (scales @ current.to(torch.float64)).to(jacobian.dtype)

    def _state(self, jacobian: Jacobian, rows: list[int]) -> Tensor:
        """ĝ [n, P], created at the first call of a run (or when the shapes change)."""
        averaged = self.averaged_
        if averaged is None or averaged.shape[1] != jacobian.shape[1] or max(rows) >= len(averaged):
            n_tasks = max(self.n_tasks_, max(rows) + 1)
            averaged = torch.zeros(n_tasks, jacobian.shape[1], dtype=jacobian.dtype, device=jacobian.device)
            self.averaged_ = averaged
        return averaged
