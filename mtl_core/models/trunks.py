"""Trunks: the shared feature extractors that architectures put heads on."""

from __future__ import annotations

from torch import nn

from mtl_core.models.layers import Dropout

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU, "gelu": nn.GELU, "tanh": nn.Tanh, "silu": nn.SiLU, "leaky_relu": nn.LeakyReLU,
}


def mlp(in_features: int, hidden: tuple[int, ...], activation: str = "relu", dropout: float = 0.0,
        norm: str = "none") -> nn.Sequential:
    """Linear → [norm] → activation → [dropout], once per entry of ``hidden``; output width ``hidden[-1]``.

    >>> mlp(11, (64, 64))
    Sequential(
      (0): Linear(in_features=11, out_features=64, bias=True)
      (1): ReLU()
      (2): Linear(in_features=64, out_features=64, bias=True)
      (3): ReLU()
    )
    """
    layers: list[nn.Module] = []
    width = in_features
    for size in hidden:
        layers.append(nn.Linear(width, size))
        if norm == "batch":
            layers.append(nn.BatchNorm1d(size))
        elif norm == "layer":
            layers.append(nn.LayerNorm(size))
        layers.append(ACTIVATIONS[activation]())
        if dropout > 0:
            layers.append(Dropout(dropout))
        width = size
    return nn.Sequential(*layers)
