"""IMTL-G against torchjd's IMTLG.

Both give α ∝ G⁻¹ n (n_t = ‖g_t‖) normalised to Σα = 1, the paper's closed form: the same scaling.
torchjd takes the pseudo-inverse of G, ours of the cosine matrix N⁻¹GN⁻¹ (accurate when the
gradients' scales differ widely); they coincide whenever the rows are linearly independent, which
these matrices are (P ≥ T; near-collinear pairs included). For dependent rows (e.g. g2 = 2 g1) the
equal-projection condition does not fix the direction, and the two pseudo-inverses pick different ones.
"""

from __future__ import annotations

import pytest
from torch.testing import assert_close

from mtl_core.weighting import create
from tests.properties.jacobians import random_matrices

pytestmark = pytest.mark.reference


def test_imtl_g_matches_torchjd_on_60_matrices() -> None:
    aggregation = pytest.importorskip("torchjd.aggregation")
    for jacobian in random_matrices(60, seed=0, full_rank=True):
        strategy = create("imtl_g")
        assert_close(strategy(jacobian), aggregation.IMTLG()(jacobian), rtol=1e-5, atol=1e-9)
        assert_close(strategy.implied_weights(), aggregation.IMTLGWeighting()(jacobian @ jacobian.T),
                     rtol=1e-5, atol=1e-9)
