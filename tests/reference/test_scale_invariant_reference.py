"""The scale-invariant loss against torchjd: Σ_t log L_t = T · log GeometricMean(L), totals and ∂/∂L."""

from __future__ import annotations

import pytest
import torch
from torch import Tensor
from torch.testing import assert_close

from mtl_core.weighting import LossWeighting, StepContext, create

pytestmark = pytest.mark.reference

CASES = 60


def losses(case: int) -> Tensor:
    """[T] positive losses, T in 2..8, from 1e-6 to 1e6."""
    generator = torch.Generator().manual_seed(500 + case)
    n_tasks = 2 + case % 7
    return torch.exp(torch.empty(n_tasks, dtype=torch.float64).uniform_(-14.0, 14.0, generator=generator))


def pairs() -> list[tuple[Tensor, Tensor]]:
    scalarization = pytest.importorskip("torchjd.scalarization")
    found = []
    for case in range(CASES):
        values = losses(case).requires_grad_(True)
        strategy = create("scale_invariant")
        assert isinstance(strategy, LossWeighting)
        total, weights = strategy.combine(values.detach(), StepContext(1, 0, tuple(map(str, range(len(values))))))
        reference = len(values) * torch.log(scalarization.GeometricMean()(values))
        (reference_weights,) = torch.autograd.grad(reference, values)
        found += [(weights, reference_weights)]
        if abs(float(reference.detach())) > 1e-3:  # a relative error of a total near 0 is rounding noise
            found.append((total, reference.detach()))
    return found


def test_it_matches_t_times_the_log_of_torchjds_geometric_mean() -> None:
    for ours, theirs in pairs():
        assert_close(ours, theirs, rtol=1e-5, atol=0.0)
