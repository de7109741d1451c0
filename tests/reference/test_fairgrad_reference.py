"""FairGrad against torchjd's FairGrad (scipy least_squares) on random Jacobians, float64, for several α.

torchjd stops least_squares at its default tolerances (ftol = xtol = gtol = 1e-8), ours runs Newton to
round-off, so the matrices are ones where a solution exists (independent rows: P ≥ T) and the problem
is not so ill-conditioned that 1e-8 in the residual moves the weights past 1e-5.
"""

from __future__ import annotations

import pytest
import torch
from torch import Tensor
from torch.testing import assert_close

from mtl_core.weighting import create

pytestmark = pytest.mark.reference


def random_jacobians(count: int = 60, seed: int = 0) -> list[Tensor]:
    """[T, P] float64, T in 2..8, P in T..50; every third case has a pair of rows at cosine ≈ 0.99."""
    generator = torch.Generator().manual_seed(seed)
    matrices = []
    for index in range(count):
        n_tasks = 2 + index % 7
        n_params = int(torch.randint(n_tasks, 51, (1,), generator=generator))
        matrix = torch.randn(n_tasks, n_params, generator=generator, dtype=torch.float64)
        if index % 3 == 0:
            noise = torch.randn(n_params, generator=generator, dtype=torch.float64)
            matrix[1] = 0.7 * matrix[0] + 0.1 * noise * matrix[0].norm() / noise.norm()
        matrices.append(matrix)
    return matrices


@pytest.mark.parametrize("alpha", [1.0, 0.5, 2.0, 5.0])
@pytest.mark.parametrize("jacobian", random_jacobians(), ids=lambda j: f"{j.shape[0]}x{j.shape[1]}")
def test_matches_torchjd(jacobian: Tensor, alpha: float) -> None:
    aggregation = pytest.importorskip("torchjd.aggregation")
    expected = aggregation.FairGrad(alpha=alpha)(jacobian)
    assert_close(create("fairgrad", alpha=alpha)(jacobian), expected, rtol=1e-5, atol=1e-8)
