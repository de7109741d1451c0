"""Hard parameter sharing (Caruana, 1997, "Multitask Learning"): one shared trunk, one linear head per task."""

from __future__ import annotations

from collections.abc import Iterator

from torch import Tensor, nn

from mtl_core.config import ModelConfig
from mtl_core.models.base import MTLModel
from mtl_core.models.registry import ARCHITECTURES
from mtl_core.models.trunks import mlp


@ARCHITECTURES.register("hps")
class HardParameterSharing(MTLModel):
    """h = trunk(x) shared by all tasks; ŷ_t = head_t(h). The seed's two-head wine model is this."""

    def __init__(self, in_features: int, heads: dict[str, int], settings: ModelConfig) -> None:
        super().__init__(heads)
        self.trunk = mlp(in_features, settings.hidden, settings.activation, settings.dropout, settings.norm)
        self.heads = nn.ModuleList(nn.Linear(settings.hidden[-1], width) for width in heads.values())

    def encode(self, x: Tensor) -> Tensor:
        return self.trunk(x.flatten(1))  # [B, H]; images [B, C, H, W] enter the MLP flattened

    def decode(self, z: Tensor) -> dict[str, Tensor]:
        return {name: head(z) for name, head in zip(self.task_names, self.heads, strict=True)}

    def shared_parameters(self) -> Iterator[nn.Parameter]:
        return self.trunk.parameters()

    def last_shared_layer(self) -> list[nn.Parameter]:
        linears = [module for module in self.trunk if isinstance(module, nn.Linear)]
        return list(linears[-1].parameters())
