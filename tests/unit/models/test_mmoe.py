"""MMoE (Ma et al., 2018): shared experts, one softmax gate per task over them, one tower per task."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from torch.testing import assert_close

from mtl_core.config import ModelConfig
from mtl_core.errors import ConfigError
from mtl_core.models import build_model

HEADS = {"a": 1, "b": 3}


def mmoe(input_shape: int | tuple[int, ...] = 5, **settings: Any) -> Any:
    return build_model(ModelConfig(architecture="mmoe", hidden=(6,), **settings), input_shape, HEADS)


def test_each_task_output_is_its_tower_on_its_gate_mixture_of_the_experts() -> None:
    model = mmoe(n_experts=3)
    x = torch.randn(4, 5, generator=torch.Generator().manual_seed(0))
    experts = torch.stack([expert(x) for expert in model.experts], dim=1)  # [B, E, H]
    for index, (name, output) in enumerate(model(x).items()):
        gate = torch.softmax(x @ model.gates[index].linear.weight.T, dim=-1)  # softmax(W_t x), [B, E]
        mixture = (gate[:, :, None] * experts).sum(dim=1)  # Σ_e g_t,e · expert_e
        assert_close(output, model.towers[index](mixture))


def test_gate_weights_give_a_distribution_over_the_experts_per_task_and_row() -> None:
    weights = mmoe(n_experts=4).gate_weights(torch.randn(7, 5))
    assert list(weights) == ["a", "b"]
    for gate in weights.values():
        assert tuple(gate.shape) == (7, 4) and bool((gate >= 0).all())
        assert_close(gate.sum(dim=1), torch.ones(7))


def test_the_gate_reads_images_flattened_and_the_experts_may_be_cnns() -> None:
    model = mmoe((1, 8, 8), trunk="cnn", channels=(3,), n_experts=2)
    assert model.gates[0].linear.in_features == 64
    assert tuple(model(torch.randn(2, 1, 8, 8))["b"].shape) == (2, 3)


def test_the_experts_are_shared_and_gates_and_towers_belong_to_their_task() -> None:
    model = mmoe(n_experts=2)
    assert {id(p) for p in model.shared_parameters()} == {id(p) for p in model.experts.parameters()}
    model(torch.randn(3, 5))["a"].sum().backward()
    assert all(p.grad is not None for p in model.experts.parameters())
    assert all(p.grad is None for p in [*model.gates[1].parameters(), *model.towers[1].parameters()])
    assert not model.has_representation


def test_one_expert_makes_the_gate_irrelevant() -> None:
    model = mmoe(n_experts=1)
    x = torch.randn(3, 5)
    assert_close(model(x)["a"], model.towers[0](model.experts[0](x)))


def test_tower_hidden_puts_an_mlp_between_the_mixture_and_the_output() -> None:
    widths = [(layer.in_features, layer.out_features) for layer in mmoe(tower_hidden=(4, 2)).towers[1]
              if isinstance(layer, torch.nn.Linear)]
    assert widths == [(6, 4), (4, 2), (2, 3)]


@pytest.mark.parametrize(("setting", "message"), [
    ({"n_experts": 0}, r"model\.n_experts = 0"),
    ({"gate_temperature": 2.0}, r"model\.gate_temperature: architecture 'mmoe' has no such hyper-parameter"),
])
def test_bad_settings_name_their_key(setting: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        mmoe(**setting)
