"""Trunks: the shared feature extractors that architectures put heads on."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor, nn

from mtl_core.config import ModelConfig
from mtl_core.errors import ConfigError
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


class Flatten(nn.Module):
    """[B, ...] → [B, F]."""

    def forward(self, x: Tensor) -> Tensor:
        return x.flatten(1)


class MLPTrunk(nn.Sequential):
    """An MLP that flattens its input first, so it takes images or tables alike."""

    def forward(self, x: Tensor) -> Tensor:
        return super().forward(x.flatten(1))


class ResidualBlock(nn.Module):
    """He et al., 2016, "Deep Residual Learning for Image Recognition": y = relu(x' + bn(conv(relu(bn(conv(x)))))),
    x' = x, or a strided 1×1 projection when the shape changes."""

    def __init__(self, in_channels: int, out_channels: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.skip: nn.Module = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.skip = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                                      nn.BatchNorm2d(out_channels))

    def forward(self, x: Tensor) -> Tensor:
        y = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(y)) + self.skip(x))


def cnn(in_channels: int, channels: tuple[int, ...], blocks: int, dropout: float = 0.0) -> nn.Sequential:
    """A small ResNet-style trunk: a 3×3 stem, ``blocks`` residual blocks per stage (each later stage halves
    the resolution), global average pooling; output width ``channels[-1]``."""
    layers: list[nn.Module] = [nn.Conv2d(in_channels, channels[0], 3, padding=1, bias=False),
                               nn.BatchNorm2d(channels[0]), nn.ReLU()]
    width = channels[0]
    for stage, size in enumerate(channels):
        for block in range(blocks):
            layers.append(ResidualBlock(width, size, stride=2 if stage > 0 and block == 0 else 1))
            width = size
    layers += [nn.AdaptiveAvgPool2d(1), Flatten()]
    if dropout > 0:
        layers.append(Dropout(dropout))
    return nn.Sequential(*layers)


def build_trunk(settings: ModelConfig, input_shape: tuple[int, ...]) -> tuple[nn.Sequential, int]:
    """The trunk ``settings.trunk`` for inputs of ``input_shape`` and the width of its output.

    ``mlp`` flattens any input; ``cnn`` needs images (C, H, W).
    """
    if settings.trunk == "cnn":
        if len(input_shape) != 3:
            raise ConfigError(f"model.trunk = 'cnn' needs image inputs (channels, height, width); this data has "
                              f"{int(np.prod(input_shape))} table features. Use trunk = 'mlp', or image data "
                              f"(e.g. digits with params.images = true, cells-synthetic, an image folder)")
        return cnn(input_shape[0], settings.channels, settings.blocks, settings.dropout), settings.channels[-1]
    layers = mlp(int(np.prod(input_shape)), settings.hidden, settings.activation, settings.dropout, settings.norm)
    return MLPTrunk(*layers), settings.hidden[-1]


def last_layer_parameters(trunk: nn.Module) -> list[nn.Parameter]:
    """The weights of the trunk's last Linear or Conv layer (GradNorm's W)."""
    layers = [module for module in trunk.modules() if isinstance(module, (nn.Linear, nn.Conv2d))]
    return list(layers[-1].parameters())
