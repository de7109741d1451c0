"""PCGrad against torchjd's PCGrad, drawing the same visiting orders.

torchjd draws, for each task i, ``torch.randperm(T)`` from the global generator and skips i; ours
draws the same permutation from its own generator seeded with ``seed``. Seeding the global
generator with the same number makes the two orders identical, so the directions match for any T.
"""

from __future__ import annotations

import pytest
import torch
from torch.testing import assert_close

from mtl_core.weighting import create
from tests.properties.jacobians import random_matrices

pytestmark = pytest.mark.reference


def test_pcgrad_matches_torchjd_on_60_matrices_in_sequences_with_the_same_orders() -> None:
    aggregation = pytest.importorskip("torchjd.aggregation")
    matrices = random_matrices(60, seed=0)
    for seed in range(12):  # 12 runs of 5 steps each, T varying from step to step
        ours, theirs = create("pcgrad", seed=seed), aggregation.PCGrad()
        torch.manual_seed(seed)
        for jacobian in matrices[5 * seed:5 * seed + 5]:
            assert_close(ours(jacobian), theirs(jacobian), rtol=1e-5, atol=1e-9)


def test_pcgrad_matches_torchjd_for_two_tasks_whatever_the_order() -> None:
    aggregation = pytest.importorskip("torchjd.aggregation")
    for jacobian in random_matrices(50, seed=1, max_tasks=2):
        assert_close(create("pcgrad", seed=7)(jacobian), aggregation.PCGrad()(jacobian), rtol=1e-5, atol=1e-9)
