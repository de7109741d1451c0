"""GradDrop against torchjd's GradDrop, given the same uniform draws.

torchjd draws U with ``torch.rand(P)`` from the global generator; ours draws it from its own
generator seeded with ``seed``. Seeding the global generator alike gives both the same U, so the
sign choices and the directions match exactly, step after step.
"""

from __future__ import annotations

import pytest
import torch
from torch.testing import assert_close

from mtl_core.weighting import create
from tests.properties.jacobians import random_matrices

pytestmark = pytest.mark.reference


@pytest.mark.parametrize("leak", [0.0, 0.3])
def test_graddrop_matches_torchjd_on_60_matrices_with_the_same_draws(leak: float) -> None:
    aggregation = pytest.importorskip("torchjd.aggregation")
    matrices = random_matrices(60, seed=0)
    for seed in range(12):  # 12 runs of 5 steps
        ours = create("graddrop", leak=leak, seed=seed)
        torch.manual_seed(seed)
        for jacobian in matrices[5 * seed:5 * seed + 5]:
            theirs = aggregation.GradDrop(leak=torch.full((len(jacobian),), leak, dtype=jacobian.dtype))
            assert_close(ours(jacobian), theirs(jacobian), rtol=1e-5, atol=1e-12)


def test_graddrop_matches_torchjd_in_float32_too() -> None:
    aggregation = pytest.importorskip("torchjd.aggregation")
    ours = create("graddrop", seed=3)
    torch.manual_seed(3)
    for jacobian in random_matrices(50, seed=1):
        jacobian = jacobian.float()
        assert_close(ours(jacobian), aggregation.GradDrop()(jacobian), rtol=1e-5, atol=1e-6)
