"""MGDA against torchjd's Frank-Wolfe MGDA and against an exact solve by enumerating supports.

torchjd runs Algorithm 2 of the paper (Frank-Wolfe, ``epsilon`` 1e-3 and 100 iterations by default),
which approaches the min-norm point but stops short of it where the optimum lies on a face of the
simplex; its direction can then differ by tens of percent. So the comparison with torchjd is on the
objective (ours is never larger), and the direction is compared at rtol 1e-5 with an independent
exact solve: every support S, v ∝ G_S⁻¹ 1, kept when v ≥ 0 and (G w)_t ≥ wᵀ G w for every t.
"""

from __future__ import annotations

import itertools

import pytest
import torch
from torch.testing import assert_close

from mtl_core.weighting import create
from tests.properties.jacobians import random_matrices

pytestmark = pytest.mark.reference


def exact_min_norm(jacobian: torch.Tensor) -> torch.Tensor:
    """The min-norm point of the hull of the rows (independent rows: every G_S is invertible)."""
    gram = jacobian @ jacobian.T
    size = len(gram)
    for subset in itertools.chain.from_iterable(itertools.combinations(range(size), k) for k in range(1, size + 1)):
        support = list(subset)
        inverse_ones = torch.linalg.solve(gram[support][:, support], torch.ones(len(support), dtype=gram.dtype))
        weights = torch.zeros(size, dtype=gram.dtype)
        weights[support] = inverse_ones / inverse_ones.sum()
        value = weights @ gram @ weights
        if bool((weights >= 0).all()) and bool((gram @ weights >= value - 1e-10 * gram.abs().max()).all()):
            return weights @ jacobian
    raise AssertionError("no support satisfies the optimality conditions")


def test_mgda_equals_the_exact_min_norm_point_on_60_matrices() -> None:
    for jacobian in random_matrices(60, seed=0, max_tasks=7, full_rank=True):
        expected = exact_min_norm(jacobian)
        assert_close(create("mgda")(jacobian), expected, rtol=1e-5, atol=1e-9 * float(jacobian.abs().max()))


@pytest.mark.parametrize(("epsilon", "max_iters"), [(1e-3, 100), (1e-7, 1000)])
def test_mgda_is_never_farther_from_the_origin_than_torchjds_frank_wolfe(epsilon: float, max_iters: int) -> None:
    aggregation = pytest.importorskip("torchjd.aggregation")
    for jacobian in random_matrices(60, seed=1):
        ours = create("mgda")(jacobian)
        theirs = aggregation.MGDA(epsilon=epsilon, max_iters=max_iters)(jacobian)
        assert float(ours @ ours) <= float(theirs @ theirs) * (1 + 1e-9) + 1e-15
