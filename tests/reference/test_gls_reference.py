"""GLS against torchjd's GeometricMean: totals and weights (∂total/∂L) on random loss vectors."""

from __future__ import annotations

import pytest
import torch
from torch import Tensor
from torch.testing import assert_close

from mtl_core.weighting import LossWeighting, StepContext, create

pytestmark = pytest.mark.reference

CASES = 60


def losses(case: int) -> Tensor:
    """[T] positive losses, T in 2..8, from 1e-6 to 1e6, some nearly equal."""
    generator = torch.Generator().manual_seed(case)
    n_tasks = 2 + case % 7
    values = torch.exp(torch.empty(n_tasks, dtype=torch.float64).uniform_(-14.0, 14.0, generator=generator))
    if case % 5 == 0:
        values = values[:1].repeat(n_tasks) * (1.0 + 1e-6 * torch.arange(n_tasks, dtype=torch.float64))
    return values


def pairs() -> list[tuple[Tensor, Tensor]]:
    scalarization = pytest.importorskip("torchjd.scalarization")
    found = []
    for case in range(CASES):
        values = losses(case).requires_grad_(True)
        strategy = create("gls")
        assert isinstance(strategy, LossWeighting)
        total, weights = strategy.combine(values.detach(), StepContext(1, 0, tuple(map(str, range(len(values))))))
        reference = scalarization.GeometricMean()(values)
        (reference_weights,) = torch.autograd.grad(reference, values)
        found += [(total, reference.detach()), (weights, reference_weights)]
    return found


def test_it_matches_torchjds_geometric_mean() -> None:
    for ours, theirs in pairs():
        assert_close(ours, theirs, rtol=1e-5, atol=0.0)
