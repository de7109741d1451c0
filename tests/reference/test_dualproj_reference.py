"""DualProj against torchjd's DualProj (quadprog) on random Jacobians, float64.

torchjd solves min_{v ≥ u} vᵀ(G/tr G + 1e-4 I)v (norm_eps = reg_eps = 1e-4) with quadprog; ours is
given the same norm_eps and reg_eps, so the two solve the same quadratic programme. Our default
(reg_eps = 0, the exact projection) differs from it by O(reg_eps) relative, checked loosely below.
"""

from __future__ import annotations

import pytest
import torch
from torch import Tensor
from torch.testing import assert_close

from mtl_core.weighting import create
from tests.reference.matrices import random_jacobians

pytestmark = pytest.mark.reference


def torchjd_dualproj() -> object:
    aggregation = pytest.importorskip("torchjd.aggregation")
    pytest.importorskip("quadprog")
    pytest.importorskip("qpsolvers")
    return aggregation.DualProj()


@pytest.mark.parametrize("jacobian", random_jacobians(), ids=lambda j: f"{j.shape[0]}x{j.shape[1]}")
def test_matches_torchjd_with_its_epsilons(jacobian: Tensor) -> None:
    reference = torchjd_dualproj()
    expected = reference(jacobian)  # type: ignore[operator]
    assert_close(create("dualproj", norm_eps=1e-4, reg_eps=1e-4)(jacobian), expected, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("jacobian", random_jacobians(count=20, seed=1), ids=lambda j: f"{j.shape[0]}x{j.shape[1]}")
def test_the_exact_default_is_within_the_regularisation_of_torchjd(jacobian: Tensor) -> None:
    reference = torchjd_dualproj()
    expected = reference(jacobian)  # type: ignore[operator]
    difference = (create("dualproj")(jacobian) - expected).norm()
    assert float(difference) <= 1e-2 * float(jacobian.norm(dim=1).max())
