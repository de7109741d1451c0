"""``aggregate`` is the pure contract: every gradient strategy works on a fresh object, called directly.

The task of each row comes in as the ``rows`` keyword; ``__call__`` only checks the Jacobian and
passes ``rows`` through, so the two give the same direction on fresh instances.
"""

from __future__ import annotations

import pytest
import torch

from mtl_core.weighting import GradientStrategy, available, create

JACOBIAN = torch.randn(3, 7, generator=torch.Generator().manual_seed(3))


def fresh(name: str) -> GradientStrategy:
    strategy = create(name)
    assert isinstance(strategy, GradientStrategy)
    strategy.check_tasks(("a", "b", "c"))
    return strategy


@pytest.mark.parametrize("name", available(kind="gradient"))
def test_aggregate_on_a_fresh_instance_gives_a_finite_direction_of_shape_p(name: str) -> None:
    direction = fresh(name).aggregate(JACOBIAN)
    assert direction.shape == (7,) and bool(direction.isfinite().all())


@pytest.mark.parametrize("name", available(kind="gradient"))
def test_aggregate_equals_calling_the_strategy_step_after_step(name: str) -> None:
    direct, called = fresh(name), fresh(name)
    for jacobian, rows in ((JACOBIAN, None), (JACOBIAN[[0, 2]], [0, 2]), (2.0 * JACOBIAN, [0, 1, 2])):
        assert torch.equal(direct.aggregate(jacobian, rows=rows), called(jacobian, rows=rows))


def test_state_per_task_is_filed_under_the_tasks_named_by_rows() -> None:
    gradvac, nash = fresh("gradvac"), create("nash_mtl", update_weights_every=2)
    gradvac.aggregate(JACOBIAN[[0, 2]], rows=[0, 2])
    nash.aggregate(JACOBIAN[[0, 2]], rows=[0, 2])
    assert set(gradvac.targets_) == {(0, 2), (2, 0)} and set(nash.alpha_) == {0, 2}  # type: ignore[attr-defined]


def test_a_strategy_whose_aggregate_takes_no_rows_is_still_called() -> None:
    class RowSum(GradientStrategy):
        def aggregate(self, jacobian: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
            return jacobian.sum(dim=0)

    assert torch.equal(RowSum()(JACOBIAN, rows=[0, 1, 2]), JACOBIAN.sum(dim=0))
