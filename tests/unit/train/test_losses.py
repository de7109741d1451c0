"""Per-task losses over the labelled rows only."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from mtl_core.data import TaskInfo
from mtl_core.train.losses import stacked_losses, task_loss

REGRESSION = TaskInfo("y", "regression", "mse", 1, ())
BCE = TaskInfo("c", "binary", "bce", 1, ("no", "yes"))
MULTI = TaskInfo("k", "multiclass", "cross_entropy", 3, ("a", "b", "c"))


def test_a_masked_row_does_not_change_the_loss() -> None:
    output = torch.tensor([[1.0], [2.0], [100.0]])
    target = torch.tensor([1.5, 2.0, 0.0])
    mask = torch.tensor([True, True, False])
    assert float(task_loss(output, target, mask, REGRESSION)) == 0.125  # (0.25 + 0) / 2


def test_a_batch_without_labels_gives_zero_still_in_the_graph() -> None:
    output = torch.randn(4, 1, requires_grad=True)
    loss = task_loss(output, torch.zeros(4), torch.zeros(4, dtype=torch.bool), REGRESSION)
    loss.backward()
    assert output.grad is not None
    assert float(loss.detach()) == 0.0 and torch.equal(output.grad, torch.zeros(4, 1))


def test_each_loss_name_is_the_torch_function() -> None:
    generator = torch.Generator().manual_seed(0)
    output, target = torch.randn(6, 1, generator=generator), torch.randn(6, generator=generator)
    mask = torch.ones(6, dtype=torch.bool)
    for name, function in (("l1", F.l1_loss), ("smooth_l1", F.smooth_l1_loss)):
        info = TaskInfo("y", "regression", name, 1, ())
        assert torch.allclose(task_loss(output, target, mask, info), function(output.squeeze(-1), target))
    labels = (target > 0).float()
    assert torch.allclose(task_loss(output, labels, mask, BCE),
                          F.binary_cross_entropy_with_logits(output.squeeze(-1), labels))
    logits, classes = torch.randn(6, 3, generator=generator), torch.tensor([0, 1, 2, 2, 1, 0])
    assert torch.allclose(task_loss(logits, classes, mask, MULTI), F.cross_entropy(logits, classes))


def test_stacked_losses_follow_the_task_order() -> None:
    outputs = {"y": torch.zeros(2, 1), "c": torch.zeros(2, 1)}
    targets = {"y": torch.tensor([1.0, 3.0]), "c": torch.tensor([0.0, 1.0])}
    masks = {"y": torch.ones(2, dtype=torch.bool), "c": torch.ones(2, dtype=torch.bool)}
    losses = stacked_losses(outputs, targets, masks, {"y": REGRESSION, "c": BCE})
    assert torch.allclose(losses, torch.tensor([5.0, float(torch.log(torch.tensor(2.0)))]))


def test_no_mask_is_an_all_true_mask_bit_for_bit() -> None:
    generator = torch.Generator().manual_seed(1)
    output = torch.randn(7, 1, generator=generator, requires_grad=True)
    target = torch.randn(7, generator=generator)
    every_row = torch.ones(7, dtype=torch.bool)
    with_mask, without = task_loss(output, target, every_row, REGRESSION), task_loss(output, target, None, REGRESSION)
    assert torch.equal(with_mask, without)
    first, = torch.autograd.grad(with_mask, output)
    second, = torch.autograd.grad(without, output)
    assert torch.equal(first, second)


def test_a_task_absent_from_the_masks_has_every_row_labelled() -> None:
    outputs = {"y": torch.tensor([[0.0], [1.0]]), "c": torch.zeros(2, 1)}
    targets = {"y": torch.tensor([1.0, 3.0]), "c": torch.tensor([0.0, 1.0])}
    partial = stacked_losses(outputs, targets, {"c": torch.tensor([True, False])}, {"y": REGRESSION, "c": BCE})
    assert torch.allclose(partial, torch.tensor([2.5, float(torch.log(torch.tensor(2.0)))]))  # y: (1 + 4) / 2
