"""RLW against torchjd's Random: the same N(0, I) draws (same seed, same stream) give the same softmax weights.

torchjd's Random draws from torch's global generator; ours from its own generator. Seeded alike,
both CPU generators give the same stream, so the weights match step for step.
"""

from __future__ import annotations

import pytest
import torch
from torch import Tensor
from torch.testing import assert_close

from mtl_core.weighting import LossWeighting, StepContext, create

pytestmark = pytest.mark.reference

CASES = 50
STEPS = 5


def pairs() -> list[tuple[Tensor, Tensor]]:
    scalarization = pytest.importorskip("torchjd.scalarization")
    found = []
    for case in range(CASES):
        n_tasks = 2 + case % 7
        losses = torch.rand(STEPS, n_tasks, generator=torch.Generator().manual_seed(case), dtype=torch.float64) + 0.1
        names = tuple(f"t{index}" for index in range(n_tasks))
        ours = create("rlw", seed=case)
        assert isinstance(ours, LossWeighting)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(case)
            for row in losses:
                values = row.clone().requires_grad_(True)
                total, weights = ours.combine(row, StepContext(1, 0, names))
                (reference_weights,) = torch.autograd.grad(scalarization.Random()(values), values)
                found += [(weights, reference_weights), (total, (reference_weights * row).sum())]
    return found


def test_it_matches_torchjds_random_draw_for_draw() -> None:
    for ours, theirs in pairs():
        assert_close(ours, theirs, rtol=1e-5, atol=0.0)
