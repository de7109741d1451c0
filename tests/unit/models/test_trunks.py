"""The MLP trunk: Linear, optional norm, activation, optional dropout, once per hidden width."""

from __future__ import annotations

import pytest
from torch import nn

from mtl_core.models.layers import Dropout
from mtl_core.models.trunks import mlp


def test_each_hidden_width_gives_one_linear_layer_chained_from_the_input() -> None:
    linears = [layer for layer in mlp(11, (64, 32, 8)) if isinstance(layer, nn.Linear)]
    assert [(layer.in_features, layer.out_features) for layer in linears] == [(11, 64), (64, 32), (32, 8)]


@pytest.mark.parametrize(("norm", "dropout", "kinds"), [
    ("none", 0.0, [nn.Linear, nn.ReLU]),
    ("batch", 0.0, [nn.Linear, nn.BatchNorm1d, nn.ReLU]),
    ("layer", 0.2, [nn.Linear, nn.LayerNorm, nn.ReLU, Dropout]),
])
def test_norm_and_dropout_sit_around_the_activation(norm: str, dropout: float, kinds: list[type]) -> None:
    assert [type(layer) for layer in mlp(3, (4,), "relu", dropout, norm)] == kinds


@pytest.mark.parametrize(("name", "kind"), [("gelu", nn.GELU), ("tanh", nn.Tanh), ("silu", nn.SiLU),
                                            ("leaky_relu", nn.LeakyReLU)])
def test_the_activation_is_chosen_by_name(name: str, kind: type) -> None:
    assert isinstance(mlp(3, (4,), name)[1], kind)
