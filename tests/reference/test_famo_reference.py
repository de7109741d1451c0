"""FAMO against torchjd's FAMO on scripted loss sequences: totals, weights (∂total/∂L) and logits.

torchjd is called as ``scalarizer(L(t))`` then ``update(L(t+1))``; ours takes L(t+1) at its next
call and updates ξ first, which is the same order of operations. Both learn ξ with Adam
(β = 0.025, γ = 0.001). Our ∇_ξ zᵀδ is the closed form (diag(z) − zzᵀ)δ, torchjd's is autograd
through softmax, so they agree to float32 rounding.
"""

from __future__ import annotations

import pytest
import torch
from torch import Tensor
from torch.testing import assert_close

from mtl_core.weighting import LossWeighting, StepContext, create

pytestmark = pytest.mark.reference

CASES = 50
STEPS = 20


def sequence(case: int) -> Tensor:
    """[STEPS, T] losses decreasing at different, noisy rates, T in 2..8."""
    generator = torch.Generator().manual_seed(case)
    n_tasks = 2 + case % 7
    rates = torch.empty(n_tasks).uniform_(0.8, 1.0, generator=generator)
    start = torch.exp(torch.empty(n_tasks).uniform_(-3.0, 3.0, generator=generator))
    noise = torch.empty(STEPS, n_tasks).uniform_(0.9, 1.1, generator=generator)
    return start * rates ** torch.arange(STEPS, dtype=torch.float32)[:, None] * noise


def pairs() -> list[tuple[Tensor, Tensor]]:
    scalarization = pytest.importorskip("torchjd.scalarization")
    found = []
    for case in range(CASES):
        losses = sequence(case)
        names = tuple(f"t{index}" for index in range(losses.shape[1]))
        ours = create("famo")
        assert isinstance(ours, LossWeighting)
        theirs = scalarization.FAMO(losses.shape[1])
        for step, row in enumerate(losses):
            if step > 0:
                theirs.update(row)
            values = row.clone().requires_grad_(True)
            total, weights = ours.combine(row, StepContext(1, step, names))
            reference = theirs(values)
            (reference_weights,) = torch.autograd.grad(reference, values)
            found += [(total, reference.detach()), (weights, reference_weights),
                      (ours.logits_.detach().clone(), theirs._w.detach().clone())]  # type: ignore[attr-defined]
    return found


def test_it_matches_torchjds_famo_step_by_step() -> None:
    for ours, theirs in pairs():
        assert_close(ours, theirs, rtol=1e-5, atol=1e-6)
