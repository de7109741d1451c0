"""Initialisation and dropout draw from a run's own generator, never from the process-wide one."""

from __future__ import annotations

import torch

from mtl_core.config import ModelConfig
from mtl_core.models import build_model
from mtl_core.models.layers import Dropout, initialize, seed_dropout


def initialised(seed: int, global_seed: int) -> torch.nn.Module:
    torch.manual_seed(global_seed)  # a different process-wide state each time
    model = build_model(ModelConfig(hidden=(16, 8)), 5, {"a": 1, "b": 3})
    initialize(model, torch.Generator().manual_seed(seed))
    return model


def test_initialisation_is_a_function_of_the_generator_only() -> None:
    first, second = initialised(seed=3, global_seed=1), initialised(seed=3, global_seed=2)
    for (name, a), (_, b) in zip(first.state_dict().items(), second.state_dict().items(), strict=True):
        assert torch.equal(a, b), name


def test_another_seed_gives_other_weights() -> None:
    first, second = initialised(seed=3, global_seed=1), initialised(seed=4, global_seed=1)
    assert not torch.equal(first.state_dict()["trunk.0.weight"], second.state_dict()["trunk.0.weight"])


def test_initial_weights_stay_within_the_default_bounds() -> None:
    model = initialised(seed=0, global_seed=0)
    weight, bias = model.state_dict()["trunk.0.weight"], model.state_dict()["trunk.0.bias"]
    bound = 1 / 5**0.5  # 1/sqrt(fan_in), fan_in = 5
    assert float(weight.abs().max()) <= bound and float(bias.abs().max()) <= bound


def test_dropout_masks_repeat_with_the_same_generator() -> None:
    layer = Dropout(0.5)
    seed_dropout(torch.nn.Sequential(layer), torch.Generator().manual_seed(7))
    first = layer(torch.ones(100))
    seed_dropout(torch.nn.Sequential(layer), torch.Generator().manual_seed(7))
    torch.manual_seed(123)
    assert torch.equal(first, layer(torch.ones(100)))
    assert set(first.unique().tolist()) == {0.0, 2.0}  # kept values scaled by 1 / (1 - p)


def test_dropout_is_the_identity_in_eval_mode() -> None:
    layer = Dropout(0.9).eval()
    x = torch.randn(10)
    assert torch.equal(layer(x), x)
