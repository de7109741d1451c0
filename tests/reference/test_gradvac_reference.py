"""GradVac against torchjd's GradVac on the same sequences of matrices and visiting orders.

Both keep φ̂ per pair, start it at 0, update it after every visited pair (Eq. 4) and compare the
cosine of the already adjusted g_i' with the original g_j. torchjd draws each task's order with
``torch.randperm(T − 1)`` from the global generator, as ours does from its own; seeding both alike
gives the same orders. torchjd's default β is 0.5, so it is given the paper's 0.01 here. It adds
eps = 1e-8 to two denominators, which moves the result by about 1e-8 relative.
"""

from __future__ import annotations

import pytest
import torch
from torch.testing import assert_close

from mtl_core.weighting import create

pytestmark = pytest.mark.reference


@pytest.mark.parametrize("beta", [0.01, 0.5])
def test_gradvac_matches_torchjd_over_sequences_of_60_steps(beta: float) -> None:
    aggregation = pytest.importorskip("torchjd.aggregation")
    generator = torch.Generator().manual_seed(0)
    for seed in range(4):  # 4 runs × 15 steps: targets drift, so later steps adjust even without conflict
        tasks = int(torch.randint(2, 9, (), generator=generator))
        base = torch.randn(tasks, 40, generator=generator, dtype=torch.float64)
        ours, theirs = create("gradvac", beta=beta, seed=seed), aggregation.GradVac(beta=beta)
        torch.manual_seed(seed)
        for _ in range(15):
            jacobian = base + 0.8 * torch.randn(tasks, 40, generator=generator, dtype=torch.float64)
            assert_close(ours(jacobian), theirs(jacobian), rtol=1e-5, atol=1e-8)
