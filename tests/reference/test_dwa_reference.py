"""DWA against torchjd's DWA on scripted epochs of batch losses: totals and weights (∂total/∂L) per batch.

torchjd averages each epoch's batch losses; the trainer's ``epoch_losses`` are the same means
here (equal batches, every task labelled), given to ours as the StepContext would.
"""

from __future__ import annotations

import pytest
import torch
from torch import Tensor
from torch.testing import assert_close

from mtl_core.weighting import LossWeighting, StepContext, create

pytestmark = pytest.mark.reference

CASES = 50
EPOCHS = 6
BATCHES = 4


def pairs() -> list[tuple[Tensor, Tensor]]:
    scalarization = pytest.importorskip("torchjd.scalarization")
    found = []
    for case in range(CASES):
        generator = torch.Generator().manual_seed(case)
        n_tasks = 2 + case % 7
        temperature = [0.5, 1.0, 2.0, 5.0][case % 4]
        ours = create("dwa", temperature=temperature)
        assert isinstance(ours, LossWeighting)
        theirs = scalarization.DWA(temperature=temperature)
        decay = torch.empty(n_tasks, dtype=torch.float64).uniform_(0.3, 1.0, generator=generator)
        history: list[tuple[float, ...]] = []
        for epoch in range(EPOCHS):
            batches = decay**epoch * torch.empty(BATCHES, n_tasks, dtype=torch.float64).uniform_(
                0.5, 2.0, generator=generator)
            context = StepContext(epoch + 1, 0, tuple(map(str, range(n_tasks))), epoch_losses=tuple(history))
            for row in batches:
                values = row.clone().requires_grad_(True)
                total, weights = ours.combine(row, context)
                reference = theirs(values)
                (reference_weights,) = torch.autograd.grad(reference, values)
                found += [(total, reference.detach()), (weights, reference_weights)]
            theirs.step()
            history.append(tuple(batches.mean(dim=0).tolist()))
    return found


def test_it_matches_torchjds_dwa_epoch_by_epoch() -> None:
    for ours, theirs in pairs():
        assert_close(ours, theirs, rtol=1e-5, atol=0.0)
