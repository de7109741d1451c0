"""Random Jacobians shared by the dual-cone reference tests (UPGrad, DualProj)."""

from __future__ import annotations

import torch
from torch import Tensor


def random_jacobians(count: int = 60, seed: int = 0) -> list[Tensor]:
    """[T, P] float64, T in 2..8, P in 1..50; every third case has a near-collinear pair of rows."""
    generator = torch.Generator().manual_seed(seed)
    matrices = []
    for index in range(count):
        n_tasks = 2 + index % 7
        n_params = int(torch.randint(1, 51, (1,), generator=generator))
        matrix = torch.randn(n_tasks, n_params, generator=generator, dtype=torch.float64)
        if index % 3 == 0:
            noise = torch.randn(n_params, generator=generator, dtype=torch.float64)
            matrix[1] = 0.7 * matrix[0] + 1e-3 * noise
        matrices.append(matrix)
    return matrices
