"""The shared T-dimensional linear algebra: one Gram matrix, the min-norm and the dual-cone solvers."""

from __future__ import annotations

import numpy as np
import torch

from mtl_core.weighting._linalg import dual_cone_weights, gram_matrix, min_norm_weights


def test_the_gram_matrix_is_float64_numpy_whatever_the_jacobian_dtype() -> None:
    gram = gram_matrix(torch.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=torch.float32))
    assert isinstance(gram, np.ndarray) and gram.dtype == np.float64
    assert gram.tolist() == [[5.0, 11.0], [11.0, 25.0]]


def test_the_solver_is_exact_where_frank_wolfe_would_still_be_moving() -> None:
    # optimality certificate of min_{w∈Δ} wᵀGw: (Gw)_t ≥ wᵀGw for every t, with equality on the support
    jacobian = np.random.default_rng(0).standard_normal((8, 30))
    gram = jacobian @ jacobian.T
    weights = min_norm_weights(gram)
    value = weights @ gram @ weights
    assert (gram @ weights >= value - 1e-12 * gram.max()).all()
    assert np.allclose((gram @ weights)[weights > 0], value, rtol=1e-10)


def test_the_dual_cone_weights_give_a_direction_no_row_conflicts_with() -> None:
    # optimality of min_{v ≥ u} vᵀGv: Gv ≥ 0, and (Gv)_t = 0 wherever v_t > u_t
    jacobian = np.random.default_rng(1).standard_normal((6, 4))
    gram = jacobian @ jacobian.T
    lower = np.full((1, 6), 1.0 / 6)
    weights = dual_cone_weights(gram, lower)[0]
    products = gram @ weights
    assert (weights >= lower[0]).all() and (products >= -1e-12 * gram.max()).all()
    assert np.allclose(products[weights > lower[0] + 1e-12], 0.0, atol=1e-10 * gram.max())
