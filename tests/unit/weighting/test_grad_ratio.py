"""Seed 002's gradient-ratio penalty: Σ L + α|n1/n2 − 1|, differentiated through the norms."""

from __future__ import annotations

import torch
from torch.testing import assert_close

from mtl_core.weighting import LossWeighting, StepContext, create, gradient_norms

TASKS = ("a", "b")


def grad_ratio(**hparams: object) -> LossWeighting:
    strategy = create("grad_ratio", **hparams)
    assert isinstance(strategy, LossWeighting)
    return strategy


def with_norms(norms: torch.Tensor, tasks: tuple[str, ...] = TASKS,
               present: tuple[bool, ...] | None = None) -> StepContext:
    return StepContext(1, 0, tasks, present=present, shared_grad_norms=lambda: norms)


def test_two_tasks_by_hand() -> None:
    norms = torch.tensor([3.0, 1.5], requires_grad=True)
    total, weights = grad_ratio().combine(torch.tensor([0.5, 0.25]), with_norms(norms))
    # 0.5 + 0.25 + 0.12·|3/1.5 - 1| = 0.75 + 0.12 = 0.87
    assert_close(total, torch.tensor(0.87))
    assert torch.equal(weights, torch.ones(2))
    total.backward()
    # ∂/∂n1 = 0.12/n2 = 0.08; ∂/∂n2 = -0.12·n1/n2² = -0.12·3/2.25 = -0.16
    assert norms.grad is not None
    assert_close(norms.grad, torch.tensor([0.08, -0.16]))


def test_three_tasks_use_each_norm_over_the_mean() -> None:
    norms = torch.tensor([1.0, 2.0, 3.0])
    total, _ = grad_ratio().combine(torch.tensor([1.0, 1.0, 1.0]), with_norms(norms, ("a", "b", "c")))
    # mean 2: |0.5 - 1| + |1 - 1| + |1.5 - 1| = 1 → 3 + 0.12·1
    assert_close(total, torch.tensor(3.12))


def test_it_matches_the_seeds_code_on_a_shared_trunk() -> None:
    torch.manual_seed(0)
    trunk, head_a, head_b = torch.nn.Linear(4, 5), torch.nn.Linear(5, 1), torch.nn.Linear(5, 3)
    features, target_a, target_b = torch.randn(8, 4), torch.randn(8, 1), torch.randint(0, 3, (8,))

    def losses() -> torch.Tensor:
        hidden = torch.relu(trunk(features))
        return torch.stack([torch.nn.functional.mse_loss(head_a(hidden), target_a),
                            torch.nn.functional.cross_entropy(head_b(hidden), target_b)])

    shared = list(trunk.parameters())
    ours = losses()
    total, _ = grad_ratio().combine(ours, StepContext(1, 0, TASKS, shared_grad_norms=lambda: gradient_norms(
        ours, shared, True)))
    ours_grads = torch.autograd.grad(total, shared)
    # the seed's grad_norm_loss, with the norms over the trunk
    loss_a, loss_b = losses()
    grads_a = torch.autograd.grad(loss_a, shared, retain_graph=True, create_graph=True)
    grads_b = torch.autograd.grad(loss_b, shared, retain_graph=True, create_graph=True)
    norm_a = torch.norm(torch.stack([torch.norm(g) for g in grads_a]))
    norm_b = torch.norm(torch.stack([torch.norm(g) for g in grads_b]))
    seed_total = loss_a + loss_b + 0.12 * torch.abs(norm_a / norm_b - 1.0)
    assert_close(total, seed_total)
    for mine, theirs in zip(ours_grads, torch.autograd.grad(seed_total, shared), strict=True):
        assert_close(mine, theirs)


def test_a_batch_missing_a_task_trains_on_the_plain_sum_without_asking_for_norms() -> None:
    def refuse() -> torch.Tensor:
        raise AssertionError("the norms must not be computed")

    context = StepContext(1, 0, TASKS, present=(True, False), shared_grad_norms=refuse)
    total, weights = grad_ratio().combine(torch.tensor([0.5, 0.0]), context)
    assert_close(total, torch.tensor(0.5))
    assert torch.equal(weights, torch.tensor([1.0, 0.0]))


def test_a_zero_norm_adds_no_penalty() -> None:
    total, _ = grad_ratio().combine(torch.tensor([0.5, 0.25]), with_norms(torch.tensor([1.0, 0.0])))
    assert_close(total, torch.tensor(0.75))


def test_alpha_scales_the_penalty_and_no_norms_means_the_plain_sum() -> None:
    total, _ = grad_ratio(alpha=1.0).combine(torch.tensor([0.5, 0.25]), with_norms(torch.tensor([1.0, 4.0])))
    assert_close(total, torch.tensor(0.75 + 0.75))  # |1/4 - 1| = 0.75
    total, _ = grad_ratio().combine(torch.tensor([0.5, 0.25]), StepContext(1, 0, TASKS))
    assert_close(total, torch.tensor(0.75))


def test_it_asks_the_trainer_for_differentiable_shared_norms() -> None:
    assert create("grad_ratio").grad_norms == "shared" and create("grad_ratio").hparams() == {"alpha": 0.12}
