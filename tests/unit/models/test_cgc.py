"""CGC (Tang et al., 2020): shared experts and task experts; each task's gate mixes its own and the shared ones."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from torch.testing import assert_close

from mtl_core.config import ModelConfig
from mtl_core.errors import ConfigError
from mtl_core.models import build_model

HEADS = {"a": 1, "b": 2, "c": 1}


def cgc(input_shape: int | tuple[int, ...] = 5, **settings: Any) -> Any:
    return build_model(ModelConfig(architecture="cgc", hidden=(6,), **settings), input_shape, HEADS)


def test_each_task_gate_mixes_its_own_experts_then_the_shared_ones() -> None:
    model = cgc(n_shared_experts=2, n_task_experts=2)
    layer = model.levels[0]
    x = torch.randn(4, 5, generator=torch.Generator().manual_seed(0))
    shared = [expert(x) for expert in layer.shared_experts]
    for index, (name, output) in enumerate(model(x).items()):
        candidates = torch.stack([*(expert(x) for expert in layer.task_experts[index]), *shared], dim=1)  # [B, 4, H]
        gate = torch.softmax(x @ layer.task_gates[index].linear.weight.T, dim=-1)  # [B, 4]
        assert_close(output, model.towers[index]((gate[:, :, None] * candidates).sum(dim=1)), msg=name)


def test_one_level_and_no_shared_gate() -> None:
    model = cgc(n_shared_experts=3, n_task_experts=1)
    assert len(model.levels) == 1 and model.levels[0].shared_gate is None
    assert [gate.linear.out_features for gate in model.levels[0].task_gates] == [4, 4, 4]


def test_only_the_shared_experts_are_shared() -> None:
    model = cgc()
    assert {id(p) for p in model.shared_parameters()} == {id(p) for p in model.levels[0].shared_experts.parameters()}
    model(torch.randn(3, 5))["b"].sum().backward()
    others = [*model.levels[0].task_experts[0].parameters(), *model.levels[0].task_experts[2].parameters()]
    assert all(p.grad is None for p in others)
    assert not model.has_representation


def test_the_experts_may_be_cnn_trunks() -> None:
    model = cgc((1, 8, 8), trunk="cnn", channels=(3, 4))
    assert {name: tuple(out.shape) for name, out in model(torch.randn(2, 1, 8, 8)).items()} == {
        "a": (2, 1), "b": (2, 2), "c": (2, 1)}


def test_levels_is_a_ple_setting_not_a_cgc_one() -> None:
    with pytest.raises(ConfigError, match=r"model\.levels: architecture 'cgc' has no such hyper-parameter"):
        cgc(levels=2)
