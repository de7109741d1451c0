"""Nash-MTL against its defining equations and against torchjd's NashMTL.

The solution must satisfy G α = 1/α with α > 0 (Theorem 5.4); ours is checked to 1e-6 relative on
every matrix. torchjd runs the authors' sequence of convex approximations with cvxpy's ECOS
(optional dependencies) from α = 1 and stops after 20 of them or when ‖Gα − 1/α‖ < 1e-3 (on G
scaled by ‖G‖_F); when ECOS fails (as it does on near-collinear pairs) it keeps its starting α.
So the directions are compared where torchjd's α solves the equations to 1e-6; the scaling is the
same (its constraint carries ‖G‖_F back, so its α solves the unscaled G α = 1/α), and both clip
‖αᵀJ‖ to ``max_norm`` the same way.
"""

from __future__ import annotations

import warnings

import pytest
import torch
from torch.testing import assert_close

from mtl_core.weighting import create
from tests.properties.jacobians import random_matrices

pytestmark = pytest.mark.reference


def residual(jacobian: torch.Tensor, alpha: torch.Tensor) -> float:
    """max_t |α_t (Gα)_t − 1|: 0 exactly at the bargaining solution."""
    return float((alpha * (jacobian @ (jacobian.T @ alpha)) - 1).abs().max())


def test_nash_weights_solve_g_alpha_equals_one_over_alpha_on_60_matrices() -> None:
    for jacobian in random_matrices(60, seed=0, full_rank=True):
        strategy = create("nash_mtl", max_norm=0.0)
        direction = strategy(jacobian)
        alpha = strategy.implied_weights()
        assert alpha is not None and bool((alpha > 0).all()) and residual(jacobian, alpha) < 1e-6
        assert_close(direction, alpha @ jacobian)


@pytest.mark.parametrize("max_norm", [0.0, 1.0])
def test_nash_mtl_matches_torchjd_where_its_solver_converges(max_norm: float) -> None:
    aggregation = pytest.importorskip("torchjd.aggregation")
    pytest.importorskip("cvxpy")
    pytest.importorskip("ecos")
    compared = 0
    for jacobian in random_matrices(80, seed=1, full_rank=True):
        theirs = aggregation.NashMTL(n_tasks=len(jacobian), max_norm=0.0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # cvxpy: "the problem is not DPP"
            alpha = theirs.weighting(jacobian)
        if residual(jacobian, alpha) > 1e-6:
            continue  # ECOS failed or stopped early
        expected = alpha @ jacobian
        if max_norm > 0 and float(expected.norm()) > max_norm:
            expected = expected / float(expected.norm()) * max_norm
        assert_close(create("nash_mtl", max_norm=max_norm)(jacobian), expected, rtol=1e-5, atol=1e-9)
        compared += 1
    assert compared >= 50
