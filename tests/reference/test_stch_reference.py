"""STCH against torchjd's STCH, given the nadir (or ideal) point our method keeps along scripted epochs.

``normalised``: T · STCH(μ, λ = 1, z = 0) applied to log(L / nadir), the nadir being the mean loss
of the last warm-up epoch. ``ideal``: STCH(μ, λ = 1/T, z = the lowest loss so far) on L itself.
Totals and weights (∂total/∂L) are compared after the warm-up.
"""

from __future__ import annotations

import pytest
import torch
from torch import Tensor
from torch.testing import assert_close

from mtl_core.weighting import LossWeighting, StepContext, create

pytestmark = pytest.mark.reference

CASES = 50
EPOCHS = 5
BATCHES = 3
WARMUP = 2
MUS = (0.01, 0.1, 0.5, 1.0)


def epochs(case: int) -> Tensor:
    """[EPOCHS, BATCHES, T] losses falling at different rates, T in 2..8."""
    generator = torch.Generator().manual_seed(case)
    n_tasks = 2 + case % 7
    rates = torch.empty(n_tasks, dtype=torch.float64).uniform_(0.5, 1.0, generator=generator)
    noise = torch.empty(EPOCHS, BATCHES, n_tasks, dtype=torch.float64).uniform_(0.7, 1.3, generator=generator)
    return rates ** torch.arange(EPOCHS, dtype=torch.float64)[:, None, None] * noise


def reference_total(scalarization: object, objective: str, mu: float, values: Tensor, nadir: Tensor,
                    ideal: Tensor) -> Tensor:
    if objective == "normalised":
        stch = scalarization.STCH(mu, weights=torch.ones_like(values))  # type: ignore[attr-defined]
        return len(values) * stch(torch.log(values / nadir))
    return scalarization.STCH(mu, reference=ideal)(values)  # type: ignore[attr-defined, no-any-return]


def pairs(objective: str) -> list[tuple[Tensor, Tensor]]:
    scalarization = pytest.importorskip("torchjd.scalarization")
    found = []
    for case in range(CASES):
        losses, mu = epochs(case), MUS[case % len(MUS)]
        names = tuple(f"t{index}" for index in range(losses.shape[2]))
        ours = create("stch", mu=mu, warmup_epochs=WARMUP, objective=objective)
        assert isinstance(ours, LossWeighting)
        ideal = torch.full((losses.shape[2],), float("inf"), dtype=torch.float64)
        for epoch, batches in enumerate(losses):
            history = tuple(tuple(losses[e].mean(dim=0).tolist()) for e in range(epoch))
            for row in batches:
                ideal = torch.minimum(ideal, row)
                total, weights = ours.combine(row, StepContext(epoch + 1, 0, names, epoch_losses=history))
                if epoch < WARMUP:
                    continue
                values = row.clone().requires_grad_(True)
                reference = reference_total(scalarization, objective, mu, values, losses[WARMUP - 1].mean(dim=0), ideal)
                (reference_weights,) = torch.autograd.grad(reference, values)
                found += [(total, reference.detach()), (weights, reference_weights)]
    return found


@pytest.mark.parametrize("objective", ["normalised", "ideal"])
def test_it_matches_torchjds_stch_after_the_warm_up(objective: str) -> None:
    for ours, theirs in pairs(objective):
        assert_close(ours, theirs, rtol=1e-5, atol=1e-12)
