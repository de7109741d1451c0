"""IMTL-L against torchjd's IMTLL: totals, weights and scales along SGD-trained scripted loss sequences."""

from __future__ import annotations

import pytest
import torch
from torch import Tensor
from torch.testing import assert_close

from mtl_core.weighting import LossWeighting, StepContext, create

pytestmark = pytest.mark.reference

CASES = 50
STEPS = 8


def sequence(case: int) -> Tensor:
    """[STEPS, T] positive losses spanning several orders of magnitude, T in 2..8."""
    generator = torch.Generator().manual_seed(1000 + case)
    n_tasks = 2 + case % 7
    return torch.exp(torch.empty(STEPS, n_tasks, dtype=torch.float32).uniform_(-4.0, 4.0, generator=generator))


def pairs() -> list[tuple[Tensor, Tensor]]:
    scalarization = pytest.importorskip("torchjd.scalarization")
    found = []
    for case in range(CASES):
        losses = sequence(case)
        names = tuple(f"t{index}" for index in range(losses.shape[1]))
        ours = create("imtl_l")
        assert isinstance(ours, LossWeighting)
        ours.check_tasks(names)
        theirs = scalarization.IMTLL(losses.shape[1])
        optimisers = [torch.optim.SGD(ours.parameters(), lr=0.01), torch.optim.SGD(theirs.parameters(), lr=0.01)]
        for row in losses:
            values = row.clone().requires_grad_(True)
            total, weights = ours.combine(row, StepContext(1, 0, names))
            reference = theirs(values)
            (reference_weights,) = torch.autograd.grad(reference, values, retain_graph=True)
            found += [(total.detach(), reference.detach()), (weights, reference_weights)]
            for optimiser in optimisers:
                optimiser.zero_grad()
            total.backward()
            reference.backward()
            for optimiser in optimisers:
                optimiser.step()
            found.append((ours.parameters()[0].detach().clone(), theirs.log_scale.detach().clone()))
    return found


def test_it_matches_torchjds_imtll_along_sgd_trained_sequences() -> None:
    for ours, theirs in pairs():
        assert_close(ours, theirs.to(ours.dtype), rtol=1e-5, atol=1e-7)
