"""GradVac: Wang et al., 2021, "Gradient Vaccine: Investigating and Improving Multi-task Optimization in Massively Multilingual Models", Algorithm 1, Eqs. (3)–(4)."""

from __future__ import annotations

from collections.abc import Sequence
import math
from typing import Annotated

import torch
from pydantic import Field
from torch import Tensor

from mtl_core.limits import MAX_SEED
from mtl_core.weighting._linalg import gram_matrix
from mtl_core.weighting.base import GradientStrategy, Jacobian, Space, task_rows
from mtl_core.weighting.registry import STRATEGIES


@STRATEGIES.register("gradvac")
class GradVac(GradientStrategy):
    """Pull each pair of task gradients towards the cosine similarity the pair has shown on average.

    For each task i and, in a random order, each other task j: φ_ij = cos(g_i', g_j); when
    φ_ij < φ̂_ij, g_i' ← g_i' + g_j · ‖g_i'‖(φ̂_ij √(1−φ_ij²) − φ_ij √(1−φ̂_ij²)) / (‖g_j‖ √(1−φ̂_ij²))
    (Eq. 3); then φ̂_ij ← (1−β) φ̂_ij + β φ_ij (Eq. 4, φ̂ starts at 0). The direction is Σ_i g_i'.
    Runs on the Gram matrix (g_i' = Σ_k c_ik g_k); φ̂ is kept per pair of the run's tasks
    (``rows``), so a task absent from a batch keeps its targets. A pair with a zero gradient has
    no angle and is skipped.
    """

    claims = frozenset({"finite"})

    def __init__(
        self,
        beta: Annotated[float, Field(ge=0.0, le=1.0, description="EMA rate of the target similarities φ̂")] = 0.01,
        seed: Annotated[int, Field(ge=0, le=MAX_SEED, description="seed of the random order in which other tasks are visited")] = 0,
        space: Space = "parameters",
    ) -> None:
        self.beta = beta
        self.seed = seed
        self.space = space

    def reset(self) -> None:
        self.generator_ = torch.Generator().manual_seed(self.seed)
        self.targets_: dict[tuple[int, int], float] = {}  # φ̂ per (task, other task) of the run
        self.weights_: Tensor | None = None

    def aggregate(self, jacobian: Jacobian, rows: Sequence[int] | None = None) -> Tensor:
        tasks = task_rows(rows, len(jacobian))
        gram = gram_matrix(jacobian).tolist()
        norms = [math.sqrt(max(gram[k][k], 0.0)) for k in range(len(gram))]
        total = [0.0] * len(gram)
        for i in range(len(gram)):
            others = [j for j in range(len(gram)) if j != i]
            order = [others[k] for k in torch.randperm(len(others), generator=self.generator_).tolist()]
            coefficients = self._vaccinate(i, order, gram, norms, tasks)
            total = [a + b for a, b in zip(total, coefficients, strict=True)]
        weights = torch.tensor(total, dtype=torch.float64).to(jacobian)
        self.weights_ = weights
        return weights @ jacobian

    def _vaccinate(self, i: int, order: list[int], gram: list[list[float]], norms: list[float],
                   tasks: list[int]) -> list[float]:
        """Coefficients c_i of g_i' = Σ_k c_ik g_k after visiting the other tasks in ``order``."""
        coefficients = [0.0] * len(gram)
        coefficients[i] = 1.0
        dots = list(gram[i])  # g_i' · g_k for every k
        for j in order:
            norm_i = math.sqrt(max(sum(c * d for c, d in zip(coefficients, dots, strict=True)), 0.0))
            if norm_i == 0.0 or norms[j] == 0.0:
                continue
            key = (tasks[i], tasks[j])
            target = self.targets_.get(key, 0.0)
            similarity = min(max(dots[j] / (norm_i * norms[j]), -1.0), 1.0)
            room = math.sqrt(max(1.0 - target * target, 0.0))
            if similarity < target and room > 0.0:
                spread = target * math.sqrt(1.0 - similarity * similarity) - similarity * room
                step = norm_i * spread / (norms[j] * room)
                coefficients[j] += step
                dots = [d + step * g for d, g in zip(dots, gram[j], strict=True)]
            self.targets_[key] = (1.0 - self.beta) * target + self.beta * similarity
        return coefficients

    def implied_weights(self) -> Tensor | None:
        return self.weights_
