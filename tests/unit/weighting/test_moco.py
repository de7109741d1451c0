"""MoCo: tracked task gradients, λ by projected gradient steps on the simplex, direction λᵀY."""

from __future__ import annotations

import torch
from torch.testing import assert_close

from mtl_core.weighting import GradientStrategy, create
from mtl_core.weighting.moco import project_to_simplex


def moco() -> GradientStrategy:
    strategy = create("moco")
    assert isinstance(strategy, GradientStrategy)
    return strategy


def test_two_steps_by_hand() -> None:
    # Defaults β = 0.5, β_sigma = 0.5, γ = 0.1, γ_sigma = 0.5, ρ = 0; y = 0 and λ = (½, ½) at the start.
    # Step 1 (β1 = 0.5, γ1 = 0.1), J = [[1, 0], [-1, 1]]: y = 0.5 g -> y1 = (0.5, 0), y2 = (-0.5, 0.5);
    #   Y Yᵀ = [[0.25, -0.25], [-0.25, 0.5]], Y Yᵀ λ = (0, 0.125); λ - 0.1 (0, 0.125) = (0.5, 0.4875);
    #   Π_Δ adds (1 - 0.9875)/2 = 0.00625 to both: λ = (0.50625, 0.49375);
    #   direction = 0.50625 (0.5, 0) + 0.49375 (-0.5, 0.5) = (0.00625, 0.246875).
    # Step 2 (β2 = 0.5/√2 = 0.3535534, γ2 = 0.1/√2 = 0.0707107), J = [[1, 1], [0, -1]]:
    #   y1 = (0.5, 0) - β2 ((0.5, 0) - (1, 1)) = (0.6767767, 0.3535534)
    #   y2 = (-0.5, 0.5) - β2 ((-0.5, 0.5) - (0, -1)) = (-0.3232233, -0.0303301)
    #   Y Yᵀ = [[0.5830267, -0.2294733], [-0.2294733, 0.1053932]], Y Yᵀ λ = (0.1818548, -0.0641330)
    #   λ - γ2 Y Yᵀ λ = (0.4933910, 0.4982849), sum 0.9916759 -> +0.0041620 each: λ = (0.4975530, 0.5024470)
    #   direction = 0.4975530 y1 + 0.5024470 y2 = (0.1743297, 0.1606723)
    strategy = moco()
    first = strategy(torch.tensor([[1.0, 0.0], [-1.0, 1.0]], dtype=torch.float64))
    assert_close(first, torch.tensor([0.00625, 0.246875], dtype=torch.float64))
    second = strategy(torch.tensor([[1.0, 1.0], [0.0, -1.0]], dtype=torch.float64))
    assert_close(second, torch.tensor([0.1743297, 0.1606723], dtype=torch.float64), atol=1e-6, rtol=0.0)
    assert_close(getattr(strategy, "lambdas_"), torch.tensor([0.4975530, 0.5024470], dtype=torch.float64),
                 atol=1e-6, rtol=0.0)


def test_simplex_projection_by_hand() -> None:
    # (0.9, 0.6, -1): drop the last, shift the others by (1 - 1.5)/2 = -0.25 -> (0.65, 0.35, 0).
    assert_close(project_to_simplex(torch.tensor([0.9, 0.6, -1.0])), torch.tensor([0.65, 0.35, 0.0]))
    assert_close(project_to_simplex(torch.tensor([5.0, 0.0])), torch.tensor([1.0, 0.0]))


def test_an_absent_task_keeps_its_tracked_gradient_and_weight() -> None:
    strategy = moco()
    strategy.check_tasks(("a", "b", "c"))
    strategy(torch.ones(3, 2))
    before_y, before_lambda = getattr(strategy, "tracked_").clone(), getattr(strategy, "lambdas_").clone()
    strategy(torch.tensor([[2.0, 0.0], [0.0, 2.0]]), rows=[0, 2])
    assert torch.equal(getattr(strategy, "tracked_")[1], before_y[1])
    assert float(getattr(strategy, "lambdas_")[1]) == float(before_lambda[1])
    assert_close(getattr(strategy, "lambdas_").sum(), torch.tensor(1.0, dtype=torch.float64))


def test_reset_forgets_the_run() -> None:
    strategy = moco()
    first = strategy(torch.tensor([[1.0, 0.0], [-1.0, 1.0]]))
    strategy(torch.tensor([[3.0, 1.0], [2.0, -1.0]]))
    strategy.reset()
    assert_close(strategy(torch.tensor([[1.0, 0.0], [-1.0, 1.0]])), first)
