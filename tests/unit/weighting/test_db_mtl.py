"""DB-MTL: log-loss gradients, averaged per task and scaled to the largest norm, then summed."""

from __future__ import annotations

import torch
from torch.testing import assert_close

from mtl_core.weighting import GradientStrategy, create


def db_mtl() -> GradientStrategy:
    strategy = create("db_mtl")
    assert isinstance(strategy, GradientStrategy)
    return strategy


def test_two_steps_by_hand() -> None:
    # Defaults β = 0.9, β_sigma = 0.5; ĝ = 0 at the start.
    # Step 1 (β1 = 0.9), J = [[3, 4], [0, 1]]: ĝ = 0.9·0 + 0.1 g -> ĝ1 = (0.3, 0.4), ĝ2 = (0, 0.1);
    #   norms 0.5 and 0.1 -> scales 0.5/0.5 = 1 and 0.5/0.1 = 5; direction = (0.3, 0.4) + 5 (0, 0.1) = (0.3, 0.9).
    # Step 2 (β2 = 0.9/√2 = 0.6363961), J = [[0, 1], [1, 0]]:
    #   ĝ1 = (0, 1) + β2 ((0.3, 0.4) - (0, 1)) = (0.1909188, 0.6181623), norm 0.6469735
    #   ĝ2 = (1, 0) + β2 ((0, 0.1) - (1, 0)) = (0.3636039, 0.0636396), norm 0.3691311
    #   scales 1 and 0.6469735/0.3691311 = 1.7526928; direction = ĝ1 + 1.7526928 ĝ2 = (0.8282048, 0.7297030)
    strategy = db_mtl()
    first = strategy(torch.tensor([[3.0, 4.0], [0.0, 1.0]], dtype=torch.float64))
    assert_close(first, torch.tensor([0.3, 0.9], dtype=torch.float64))
    second = strategy(torch.tensor([[0.0, 1.0], [1.0, 0.0]], dtype=torch.float64))
    assert_close(second, torch.tensor([0.8282048, 0.7297030], dtype=torch.float64), atol=1e-6, rtol=0.0)


def test_it_asks_the_trainer_for_gradients_of_log_losses() -> None:
    assert getattr(create("db_mtl"), "log_losses") is True


def test_every_averaged_gradient_counts_with_the_largest_norm() -> None:
    jacobian = torch.tensor([[10.0, 0.0], [0.0, 0.1], [0.0, 0.0]])
    assert_close(db_mtl()(jacobian), torch.tensor([1.0, 1.0]))  # 0.1 ĝ each, scaled to norm 1; the zero row adds 0


def test_an_absent_task_keeps_its_average() -> None:
    strategy = db_mtl()
    strategy.check_tasks(("a", "b"))
    strategy(torch.tensor([[1.0, 0.0], [0.0, 1.0]]))
    kept = getattr(strategy, "averaged_")[1].clone()
    strategy(torch.tensor([[2.0, 0.0]]), rows=[0])
    assert torch.equal(getattr(strategy, "averaged_")[1], kept)
