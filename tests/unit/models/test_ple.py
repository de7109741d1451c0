"""PLE (Tang et al., 2020): CGC extraction networks stacked, with shared gates feeding the next level's shared
experts; which parameters are shared follows from the levels."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from torch import nn
from torch.testing import assert_close

from mtl_core.config import ModelConfig
from mtl_core.errors import ConfigError
from mtl_core.models import build_model
from mtl_core.models.layers import initialize

HEADS = {"a": 1, "b": 1}


def ple(input_shape: int | tuple[int, ...] = 5, **settings: Any) -> Any:
    return build_model(ModelConfig(architecture="ple", hidden=(6,), **settings), input_shape, HEADS)


def ids(parameters: Any) -> set[int]:
    return {id(p) for p in parameters}


def test_one_level_is_cgc_number_for_number() -> None:
    one_level = ple(levels=1)
    cgc = build_model(ModelConfig(architecture="cgc", hidden=(6,)), 5, HEADS)
    for model in (one_level, cgc):
        initialize(model, torch.Generator().manual_seed(0))
    x = torch.randn(3, 5)
    for name, output in one_level(x).items():
        assert_close(output, cgc(x)[name])


def test_every_level_but_the_last_has_a_shared_gate_over_all_its_experts() -> None:
    model = ple(levels=3, n_shared_experts=2, n_task_experts=1)
    assert [layer.shared_gate is not None for layer in model.levels] == [True, True, False]
    assert model.levels[0].shared_gate.linear.out_features == 2 * 1 + 2


def test_the_shared_experts_of_level_two_read_the_shared_gate_mixture_of_level_one() -> None:
    model = ple(levels=2)
    first, second = model.levels
    x, own_input = torch.randn(4, 5), torch.zeros(4, 6)
    _, shared_mixture = first([x, x], x)
    nn.init.zeros_(second.task_gates[0].linear.weight)  # task a's gate: 1/3 each to 1 own and 2 shared experts
    own = second.task_experts[0][0](own_input)
    expected = (own + sum(expert(shared_mixture) for expert in second.shared_experts)) / 3
    assert_close(second([own_input, own_input], shared_mixture)[0][0], expected)


def test_with_the_cnn_only_level_one_is_convolutional() -> None:
    model = ple((1, 8, 8), trunk="cnn", channels=(3, 4), levels=2)
    convolutions = [any(isinstance(m, nn.Conv2d) for m in layer.modules()) for layer in model.levels]
    assert convolutions == [True, False]
    assert model.levels[1].shared_experts[0][0].in_features == 4  # the cnn's width
    assert tuple(model(torch.randn(2, 1, 8, 8))["a"].shape) == (2, 1)


def test_task_experts_are_shared_below_the_last_level_and_task_gates_below_the_last_two() -> None:
    model = ple(levels=3)
    first, second, third = model.levels
    shared = ids(model.shared_parameters())
    assert ids(first.task_experts.parameters()) | ids(second.task_experts.parameters()) <= shared
    assert ids(first.task_gates.parameters()) <= shared
    assert not ids(second.task_gates.parameters()) & shared  # they feed level 3's task experts only
    assert not (ids(third.task_experts.parameters()) | ids(third.task_gates.parameters())) & shared


def test_levels_must_be_at_least_one() -> None:
    with pytest.raises(ConfigError, match=r"model\.levels = 0"):
        ple(levels=0)
