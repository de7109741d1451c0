"""CAGrad: the mean gradient pushed, within a ball, towards the least improved task."""

from __future__ import annotations

import math

import numpy as np
import torch
from torch.testing import assert_close

from mtl_core.weighting import GradientStrategy, create
from mtl_core.weighting.cagrad import cagrad_weights


def cagrad(**hparams: object) -> GradientStrategy:
    strategy = create("cagrad", **hparams)
    assert isinstance(strategy, GradientStrategy)
    return strategy


def test_two_symmetric_tasks_by_hand() -> None:
    # g0 = (½, ½), √φ = 0.4/√2; g_w·g0 = ½ for every w, so w = (½, ½), g_w = g0: d = g0 + 0.4/√2 (1/√2)(1, 1) = (0.7, 0.7)
    jacobian = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    assert_close(cagrad(rescale=0)(jacobian), torch.tensor([0.7, 0.7]))
    assert_close(cagrad()(jacobian), torch.tensor([0.7, 0.7]) / 1.16)  # rescale 1: ÷ (1 + c²)
    assert_close(cagrad(rescale=2)(jacobian), torch.tensor([0.7, 0.7]) / 1.4)  # rescale 2: ÷ (1 + c)


def test_the_least_improved_task_alone_sets_the_correction_by_hand() -> None:
    # g1 = (1, 0), g2 = (0, 2): g0 = (½, 1), √φ = 0.4 √1.25. F(w) = ½w + 2(1−w) + √φ √(w² + 4(1−w)²) has
    # F'(w) = −1.5 + √φ (5w − 4)/√(5w² − 8w + 4) ≤ −1.5 + √φ √5 < 0, so w = (1, 0) and d = g0 + √φ e1
    direction = cagrad(rescale=0)(torch.tensor([[1.0, 0.0], [0.0, 2.0]]))
    assert_close(direction, torch.tensor([0.5 + 0.4 * math.sqrt(1.25), 1.0]))


def test_c_zero_is_the_mean_gradient() -> None:
    jacobian = torch.randn(4, 6, generator=torch.Generator().manual_seed(0))
    assert_close(cagrad(c=0.0, rescale=0)(jacobian), jacobian.mean(dim=0))


def test_the_update_maximises_the_worst_improvement_within_the_ball() -> None:
    # the primal of Eq. (4): d = argmax_{‖d − g0‖ ≤ c‖g0‖} min_t g_t · d; no point of the ball does better
    generator = torch.Generator().manual_seed(4)
    jacobian = torch.randn(4, 3, generator=generator, dtype=torch.float64)
    direction = cagrad(rescale=0)(jacobian)
    mean = jacobian.mean(dim=0)
    radius = 0.4 * float(mean.norm())
    assert abs(float((direction - mean).norm()) - radius) < 1e-9
    samples = torch.randn(20000, 3, generator=generator, dtype=torch.float64)
    inside = mean + radius * samples / samples.norm(dim=1, keepdim=True) * torch.rand(20000, 1, generator=generator)
    assert float((inside @ jacobian.T).min(dim=1).values.max()) <= float((jacobian @ direction).min()) + 1e-12


def test_the_dual_optimum_meets_its_optimality_conditions() -> None:
    # ∂/∂w_t of g_wᵀg0 + √φ‖g_w‖ = g_t · d: equal on the support of w, no smaller off it
    jacobian = np.random.default_rng(2).standard_normal((6, 9))
    gram = jacobian @ jacobian.T
    weights = cagrad_weights(gram, 0.4)  # of d: 1/T + (√φ/‖g_w‖) w_t
    projections = gram @ weights  # g_t · d
    support = weights - 1 / 6 > 1e-12  # where w_t > 0
    assert np.ptp(projections[support]) < 1e-9 * np.abs(projections).max()
    assert (projections[~support] >= projections[support].min() - 1e-9).all()


def test_opposite_tasks_with_c_one_get_no_update_by_hand() -> None:
    # g_w = 0 at w = (½, ½): the optimal value is 0 and the only d with J d ≥ 0 is orthogonal to g; here 0
    direction = cagrad(c=1.0, rescale=0)(torch.tensor([[1.0, 2.0], [-1.0, -2.0]], dtype=torch.float64))
    assert_close(direction, torch.zeros(2, dtype=torch.float64))


def test_at_a_weakly_stationary_point_the_mean_is_projected_onto_the_dual_cone_by_hand() -> None:
    # (1, 0) and (−1, 0) cancel: J d ≥ 0 forces d = (0, y), y ≥ 0; the nearest to g0 = (0, ⅓) is g0 itself
    jacobian = torch.tensor([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0]], dtype=torch.float64)
    for c in (1.0, 2.0):
        assert_close(cagrad(c=c, rescale=0)(jacobian), torch.tensor([0.0, 1.0 / 3.0], dtype=torch.float64))


def test_implied_weights_give_the_direction() -> None:
    jacobian = torch.randn(3, 5, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    strategy = cagrad()
    direction = strategy(jacobian)
    weights = strategy.implied_weights()
    assert weights is not None
    assert_close(direction, weights @ jacobian)
