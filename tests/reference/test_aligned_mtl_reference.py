"""Aligned-MTL against torchjd's AlignedMTL on random Jacobians, float64, for each scale mode.

torchjd's default preference vector is 1/T (the mean of the aligned rows); the paper's code sums them,
as ours does, so torchjd is given pref_vector = 1 (equivalently: ours = T × torchjd's default).
"""

from __future__ import annotations

import pytest
import torch
from torch import Tensor
from torch.testing import assert_close

from mtl_core.weighting import create

pytestmark = pytest.mark.reference


def random_jacobians(count: int = 60, seed: int = 0) -> list[Tensor]:
    """[T, P] float64, T in 2..8, P in 1..50 (some rank-deficient); every third case has a near-collinear pair."""
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


@pytest.mark.parametrize("scale_mode", ["min", "median", "rmse"])
@pytest.mark.parametrize("jacobian", random_jacobians(), ids=lambda j: f"{j.shape[0]}x{j.shape[1]}")
def test_matches_torchjd_with_a_preference_vector_of_ones(jacobian: Tensor, scale_mode: str) -> None:
    aggregation = pytest.importorskip("torchjd.aggregation")
    ones = torch.ones(len(jacobian), dtype=jacobian.dtype)
    expected = aggregation.AlignedMTL(pref_vector=ones, scale_mode=scale_mode)(jacobian)
    assert_close(create("aligned_mtl", scale_mode=scale_mode)(jacobian), expected, rtol=1e-5, atol=1e-8)


def test_is_t_times_torchjds_default() -> None:
    aggregation = pytest.importorskip("torchjd.aggregation")
    jacobian = random_jacobians(count=1, seed=3)[0]
    assert_close(create("aligned_mtl")(jacobian), len(jacobian) * aggregation.AlignedMTL()(jacobian))
