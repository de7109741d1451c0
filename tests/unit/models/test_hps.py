"""Hard parameter sharing: one trunk, one head per task; shared and task parameters partition the model."""

from __future__ import annotations

import pytest
import torch

from mtl_core.config import ModelConfig
from mtl_core.models import MTLModel, build_model

HEADS = {"quality": 1, "good": 1, "kind": 4}


def hps(**settings: object) -> MTLModel:
    return build_model(ModelConfig(architecture="hps", **settings), 11, HEADS)  # type: ignore[arg-type]


def test_forward_gives_one_output_per_task_with_its_width() -> None:
    outputs = hps(hidden=(16, 8))(torch.randn(5, 11, generator=torch.Generator().manual_seed(0)))
    assert list(outputs) == ["quality", "good", "kind"]
    assert {name: tuple(output.shape) for name, output in outputs.items()} == {
        "quality": (5, 1), "good": (5, 1), "kind": (5, 4)}


def test_forward_is_decode_of_encode_at_the_shared_representation() -> None:
    model = hps(hidden=(16, 8))
    x = torch.randn(4, 11, generator=torch.Generator().manual_seed(1))
    z = model.encode(x)
    assert model.has_representation and tuple(z.shape) == (4, 8)
    for name, output in model(x).items():
        assert torch.equal(output, model.decode(z)[name])


def test_images_enter_the_trunk_flattened() -> None:
    model = build_model(ModelConfig(hidden=(4,)), 2 * 3 * 3, {"t": 1})
    assert tuple(model(torch.zeros(7, 2, 3, 3))["t"].shape) == (7, 1)


def test_shared_and_task_parameters_partition_the_parameters() -> None:
    model = hps(hidden=(16, 8), norm="layer")
    shared = {id(p) for p in model.shared_parameters()}
    task = {id(p) for p in model.task_parameters()}
    every = {id(p) for p in model.parameters()}
    assert shared and task and not shared & task and shared | task == every


def test_the_task_parameters_are_the_heads_alone() -> None:
    model = hps(hidden=(16, 8))
    assert sum(p.numel() for p in model.task_parameters()) == 8 * 6 + 6  # weights and biases of widths 1, 1, 4


def test_each_head_depends_on_its_own_parameters_and_the_trunk_only() -> None:
    model = hps(hidden=(6,))
    model(torch.randn(3, 11))["good"].sum().backward()
    heads = list(model.task_parameters())
    assert all(p.grad is not None for p in model.shared_parameters())
    assert [p.grad is not None for p in heads] == [False, False, True, True, False, False]


def test_the_last_shared_layer_is_the_last_linear_of_the_trunk() -> None:
    model = hps(hidden=(16, 8), norm="batch")
    weight, bias = model.last_shared_layer()
    assert tuple(weight.shape) == (8, 16) and tuple(bias.shape) == (8,)


def test_an_unknown_architecture_suggests_the_registered_ones() -> None:
    from mtl_core.errors import UnknownNameError

    with pytest.raises(UnknownNameError, match=r"model\.architecture = 'hsp'.*Did you mean 'hps'"):
        build_model(ModelConfig(architecture="hsp"), 11, HEADS)
