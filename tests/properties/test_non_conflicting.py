"""Non-conflicting methods near Pareto stationarity: J·d ≥ 0 row by row where 0 is in, on or off the hull.

Every method (and every setting of it, e.g. CAGrad with c ≥ 1) whose ``claims_held()`` include
"non_conflicting" is checked on the four ``stationary_family`` kinds: strictly weak (0 in the relative
interior of the hull of the rows), weak (0 on its boundary), non-weak (0 outside) and strong (an
exactly cancelling integer combination), T from 2 to 20, P from 2 to 100, ranks 1 to T − 1, the whole
matrix scaled by 0 or 1e-10 to 1e15 and its rows by 1e-3 to 1e3.
"""

from __future__ import annotations

from typing import Any

import pytest
import torch
from hypothesis import HealthCheck, given, settings

from mtl_core import weighting
from mtl_core.weighting import GradientStrategy
from tests.properties.jacobians import FAMILIES, STATIONARY_SCALES, stationary_family, stationary_jacobians
from tests.properties.test_weighting_claims import check_non_conflicting, gradient_strategy, variants

NON_CONFLICTING = [pytest.param(name, hparams, id=f"{name}{hparams or ''}")
                   for name, hparams in variants(weighting.available(kind="gradient"))
                   if "non_conflicting" in weighting.create(name, **hparams).claims_held()]
SHAPES = ((2, 2, 1), (3, 10, 2), (5, 100, 4), (10, 10, 5), (20, 10, 9), (20, 100, 19), (20, 100, 5))


def maker(name: str, hparams: dict[str, Any]) -> Any:
    def make(n_tasks: int) -> GradientStrategy:
        return gradient_strategy(name, n_tasks, hparams)
    return make


def test_the_non_conflicting_methods_include_cagrad_from_c_equal_one() -> None:
    ids = {param.id for param in NON_CONFLICTING}
    assert {"mgda", "upgrad", "dualproj", "cagrad{'c': 1.0}", "cagrad{'c': 2.0}"} <= ids
    assert "cagrad" not in ids  # c = 0.4 may conflict: its ball does not hold d = 0


@pytest.mark.parametrize(("name", "hparams"), NON_CONFLICTING)
@pytest.mark.parametrize("family", FAMILIES)
def test_no_task_conflicts_with_the_direction_on_every_family_shape_and_scale(
        name: str, hparams: dict[str, Any], family: str) -> None:
    for index, (tasks, params, rank) in enumerate(SHAPES):
        for scale in STATIONARY_SCALES:
            jacobian = stationary_family(family, tasks, params, rank, seed=index, scale=scale)
            check_non_conflicting(maker(name, hparams), jacobian)


@pytest.mark.parametrize(("name", "hparams"), NON_CONFLICTING)
@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(jacobian=stationary_jacobians())
def test_no_task_conflicts_with_the_direction_near_stationarity(name: str, hparams: dict[str, Any],
                                                                jacobian: torch.Tensor) -> None:
    check_non_conflicting(maker(name, hparams), jacobian)
