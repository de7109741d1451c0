"""Uncertainty weighting against torchjd's UW: the paper's form exactly, the simplified form at twice its scale.

torchjd's UW is ½ exp(−s) L + ½ s (our ``form = "kendall"``). Both are trained here by the same SGD
steps on s over scripted loss sequences, and totals, weights (∂total/∂L) and log-variances compared.
"""

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
    generator = torch.Generator().manual_seed(case)
    n_tasks = 2 + case % 7
    return torch.exp(torch.empty(STEPS, n_tasks, dtype=torch.float32).uniform_(-4.0, 4.0, generator=generator))


def kendall_pairs() -> list[tuple[Tensor, Tensor]]:
    """(ours, torchjd's) totals, weights and log-variances along each sequence, both trained by SGD."""
    scalarization = pytest.importorskip("torchjd.scalarization")
    pairs = []
    for case in range(CASES):
        losses = sequence(case)
        names = tuple(f"t{index}" for index in range(losses.shape[1]))
        ours = create("uncertainty", form="kendall")
        assert isinstance(ours, LossWeighting)
        ours.check_tasks(names)
        theirs = scalarization.UW(losses.shape[1])
        optimisers = [torch.optim.SGD(ours.parameters(), lr=0.1), torch.optim.SGD(theirs.parameters(), lr=0.1)]
        for row in losses:
            values = row.clone().requires_grad_(True)
            total, weights = ours.combine(row, StepContext(1, 0, names))
            reference = theirs(values)
            (reference_weights,) = torch.autograd.grad(reference, values, retain_graph=True)
            pairs += [(total.detach(), reference.detach()), (weights, reference_weights)]
            for optimiser in optimisers:
                optimiser.zero_grad()
            total.backward()
            reference.backward()
            for optimiser in optimisers:
                optimiser.step()
            pairs.append((ours.parameters()[0].detach().clone(), theirs.log_var.detach().clone()))
    return pairs


def simplified_pairs() -> list[tuple[Tensor, Tensor]]:
    """(ours, 2 × torchjd's) totals and weights at the same log-variances."""
    scalarization = pytest.importorskip("torchjd.scalarization")
    pairs = []
    for case in range(CASES):
        losses = sequence(case)
        names = tuple(f"t{index}" for index in range(losses.shape[1]))
        ours = create("uncertainty")
        assert isinstance(ours, LossWeighting)
        ours.check_tasks(names)
        theirs = scalarization.UW(losses.shape[1])
        generator = torch.Generator().manual_seed(case)
        log_vars = torch.empty(losses.shape[1]).uniform_(-2, 2, generator=generator)
        with torch.no_grad():
            ours.parameters()[0].copy_(log_vars)
            theirs.log_var.copy_(log_vars)
        for row in losses:
            values = row.clone().requires_grad_(True)
            total, weights = ours.combine(row, StepContext(1, 0, names))
            reference = theirs(values)
            (reference_weights,) = torch.autograd.grad(reference, values)
            pairs += [(total.detach(), 2.0 * reference.detach()), (weights, 2.0 * reference_weights)]
    return pairs


def test_the_papers_form_matches_torchjds_uw_along_sgd_trained_sequences() -> None:
    for ours, theirs in kendall_pairs():
        assert_close(ours, theirs.to(ours.dtype), rtol=1e-5, atol=1e-7)


def test_the_simplified_form_is_exactly_twice_torchjds_uw() -> None:
    for ours, theirs in simplified_pairs():
        assert_close(ours, theirs, rtol=1e-5, atol=1e-7)
