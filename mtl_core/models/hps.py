"""Hard parameter sharing (Caruana, 1997, "Multitask Learning"): one shared trunk, one linear head per task."""

from __future__ import annotations

from collections.abc import Iterator

from torch import Tensor, nn

from mtl_core.config import ModelConfig
from mtl_core.models.base import MTLModel
from mtl_core.models.registry import ARCHITECTURES
from mtl_core.models.trunks import build_trunk, last_layer_parameters


@ARCHITECTURES.register("hps")
class HardParameterSharing(MTLModel):
    """h = trunk(x) shared by all tasks; ŷ_t = head_t(h).

    The two-head wine model the project started from (one trunk, a quality and a good/not-good head) is this.
    """

    def __init__(self, input_shape: tuple[int, ...], heads: dict[str, int], settings: ModelConfig) -> None:
        super().__init__(heads)
        self.trunk, width = build_trunk(settings, input_shape)
        self.heads = nn.ModuleList(nn.Linear(width, size) for size in heads.values())

    def encode(self, x: Tensor) -> Tensor:
        return self.trunk(x)  # [B, H]

    def decode(self, z: Tensor) -> dict[str, Tensor]:
        return {name: head(z) for name, head in zip(self.task_names, self.heads, strict=True)}

    def shared_parameters(self) -> Iterator[nn.Parameter]:
        return self.trunk.parameters()

    def last_shared_layer(self) -> list[nn.Parameter]:
        return last_layer_parameters(self.trunk)
