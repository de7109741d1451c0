"""ConFIG against torchjd's ConFIG on random Jacobians, float64, with zero, repeated and near-collinear rows.

torchjd takes torch.linalg.pinv of the unit rows; ours works on their Gram matrix. Where the rows'
units cancel exactly (U⁺1 = 0), torchjd returns round-off (~1e-9) and ours returns 0: the absolute
tolerance covers that.
"""

from __future__ import annotations

import pytest
import torch
from torch import Tensor
from torch.testing import assert_close

from mtl_core.weighting import create

pytestmark = pytest.mark.reference


def random_jacobians(count: int = 80, seed: int = 0) -> list[Tensor]:
    """[T, P] float64, T in 2..8, P in 1..50; near-collinear pairs, zero rows and exact repeats among them."""
    generator = torch.Generator().manual_seed(seed)
    matrices = []
    for index in range(count):
        n_tasks = 2 + index % 7
        n_params = int(torch.randint(1, 51, (1,), generator=generator))
        matrix = torch.randn(n_tasks, n_params, generator=generator, dtype=torch.float64)
        if index % 3 == 0:
            noise = torch.randn(n_params, generator=generator, dtype=torch.float64)
            matrix[1] = 0.7 * matrix[0] + 1e-3 * noise
        if index % 7 == 0:
            matrix[-1] = 0.0
        if index % 11 == 0:
            matrix[0] = 3.0 * matrix[-1]
        matrices.append(matrix)
    return matrices


@pytest.mark.parametrize("jacobian", random_jacobians(), ids=lambda j: f"{j.shape[0]}x{j.shape[1]}")
def test_matches_torchjd(jacobian: Tensor) -> None:
    aggregation = pytest.importorskip("torchjd.aggregation")
    expected = aggregation.ConFIG()(jacobian)
    atol = 1e-8 * float(jacobian.norm(dim=1).sum())
    assert_close(create("config_grad")(jacobian), expected, rtol=1e-5, atol=atol)
