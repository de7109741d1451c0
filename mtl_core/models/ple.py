"""Progressive Layered Extraction: Tang et al., 2020, "Progressive Layered Extraction (PLE): A Novel Multi-Task
Learning (MTL) Model for Personalized Recommendations", RecSys, §4.3 (Eq. 4-5)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from mtl_core.config import ModelConfig
from mtl_core.models.base import MTLModel
from mtl_core.models.cgc import CGC, SharedExperts, TaskExperts
from mtl_core.models.mmoe import TowerHidden
from mtl_core.models.registry import ARCHITECTURES


@ARCHITECTURES.register("ple")
class PLE(CGC):
    """``levels`` CGC extraction networks stacked; every level but the last adds a shared gate over all experts.

    Tang et al., Eq. 4-5, at level j for task k and for the shared branch s:
        g^{k,j}(x) = w^{k,j}(g^{k,j−1}(x)) · S^{k,j}(x),   S^{k,j} = [E^{k,j}, E^{s,j}] on g^{k,j−1}, g^{s,j−1};
        g^{s,j}(x) = w^{s,j}(g^{s,j−1}(x)) · S^{s,j}(x),   S^{s,j} = [E^{1,j}, …, E^{K,j}, E^{s,j}];
        y^k(x) = t^k(g^{k,N}(x)), with g^{·,0}(x) = x.
    Level 1's experts are trunks (mlp or cnn); levels ≥ 2 use MLP experts of widths ``[model] hidden`` on the
    previous level's width, so ``trunk = "cnn"`` is convolutional at level 1 only. ``levels = 1`` is CGC.
    Which parameters are shared (more than one task depends on them) is derived in ``CGC``'s docstring.
    """

    def __init__(self, input_shape: tuple[int, ...], heads: dict[str, int], settings: ModelConfig, *,
                 n_shared_experts: SharedExperts = 2, n_task_experts: TaskExperts = 1, tower_hidden: TowerHidden = (),
                 levels: Annotated[int, Field(ge=1, le=8, description="extraction levels stacked; 1 is CGC")] = 2,
                 ) -> None:
        MTLModel.__init__(self, heads)  # not CGC's: it would build one level
        self.build_levels(input_shape, settings, levels, n_shared_experts, n_task_experts, tower_hidden)
