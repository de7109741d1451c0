"""Cross-stitch networks (Misra et al., 2016): one column per task, mixed by a learned T×T unit after each stage."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.testing import assert_close

from mtl_core.config import ModelConfig
from mtl_core.models import build_model

HEADS = {"a": 1, "b": 1, "c": 2}


def cross_stitch(input_shape: int | tuple[int, ...] = 4, **settings: Any) -> Any:
    return build_model(ModelConfig(architecture="cross_stitch", **settings), input_shape, HEADS)


def test_units_start_at_point_nine_on_the_diagonal_and_share_the_rest() -> None:
    alpha = cross_stitch(hidden=(5,)).units[0].detach()
    assert_close(alpha, torch.tensor([[0.9, 0.05, 0.05], [0.05, 0.9, 0.05], [0.05, 0.05, 0.9]]))  # 0.1 / (3 − 1)


def test_one_unit_after_each_hidden_layer_or_each_cnn_stage() -> None:
    assert len(cross_stitch(hidden=(5, 4, 3)).units) == 3
    cnn = cross_stitch((1, 8, 8), trunk="cnn", channels=(2, 3), blocks=2)
    assert len(cnn.units) == 2 and tuple(cnn(torch.randn(2, 1, 8, 8))["c"].shape) == (2, 2)


def test_each_column_reads_the_unit_weighted_sum_of_all_columns() -> None:
    model = cross_stitch(hidden=(3, 2))
    with torch.no_grad():
        model.units[0].copy_(torch.tensor([[0.5, 0.5, 0.0], [0.0, 1.0, 0.0], [0.2, 0.3, 0.5]]))
        model.units[1].copy_(torch.eye(3))
    x = torch.randn(6, 4)
    first = [column[0](x) for column in model.columns]  # x^1_s
    mixed_a = 0.5 * first[0] + 0.5 * first[1]  # x̃^1_a = Σ_s α_as x^1_s
    assert_close(model(x)["a"], model.heads[0](model.columns[0][1](mixed_a)))


def test_identity_units_make_the_columns_independent() -> None:
    model = cross_stitch(hidden=(3, 2))
    with torch.no_grad():
        for unit in model.units:
            unit.copy_(torch.eye(3))
    model(torch.randn(2, 4))["b"].sum().backward()
    assert all(p.grad is None or not p.grad.any() for p in model.columns[0].parameters())
    assert all(p.grad is not None for p in model.columns[1].parameters())


def test_every_column_and_unit_is_shared_and_only_the_heads_belong_to_one_task() -> None:
    model = cross_stitch(hidden=(3, 2))
    shared = {id(p) for p in model.shared_parameters()}
    assert shared == {id(p) for p in [*model.columns.parameters(), *model.units.parameters()]}
    assert {id(p) for p in model.task_parameters()} == {id(p) for p in model.heads.parameters()}
    model(torch.randn(2, 4))["b"].sum().backward()  # task b's loss reaches column a through α_ba
    assert all(p.grad is not None for p in model.columns[0].parameters())


def test_the_units_are_learned_and_left_alone_by_initialisation() -> None:
    from mtl_core.models.layers import initialize

    model = cross_stitch(hidden=(3,))
    initialize(model, torch.Generator().manual_seed(0))
    assert isinstance(model.units[0], nn.Parameter) and model.units[0].requires_grad
    assert_close(model.units[0].detach().diagonal(), torch.full((3,), 0.9))
