"""What the models show of how their tasks share (``MTLModel.inspect``): gates, cross-stitch units, trunk distances."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from mtl_core.config import ModelConfig
from mtl_core.models import build_model

HEADS = {"a": 1, "b": 2}


def inspected(architecture: str, **hparams: Any) -> dict[str, Any]:
    model = build_model(ModelConfig(architecture=architecture, hidden=(4,), **hparams), (3,), HEADS)
    with torch.no_grad():
        return model.eval().inspect(torch.randn(16, 3, generator=torch.Generator().manual_seed(0)))


@pytest.mark.parametrize(("architecture", "levels"), [("mmoe", 1), ("cgc", 1), ("ple", 2)])
def test_every_tasks_mean_gate_weights_sum_to_one(architecture: str, levels: int) -> None:
    shown = inspected(architecture)
    assert len(shown["gates"]) == levels
    for level in shown["gates"]:
        assert set(level) == set(HEADS)
        assert all(sum(weights.values()) == pytest.approx(1.0) for weights in level.values())
    for gate in shown.get("shared_gates", []):
        assert sum(gate.values()) == pytest.approx(1.0) and "a 1" in gate and "shared 1" in gate
    assert ("shared_gates" in shown) == (architecture == "ple")


def test_mmoe_names_its_experts() -> None:
    assert list(inspected("mmoe", n_experts=3)["gates"][0]["a"]) == ["expert 1", "expert 2", "expert 3"]


def test_cross_stitch_shows_its_units_as_they_start() -> None:
    units = inspected("cross_stitch")["cross_stitch"]
    assert units == [{"a": {"a": pytest.approx(0.9), "b": pytest.approx(0.1)},
                      "b": {"a": pytest.approx(0.1), "b": pytest.approx(0.9)}}]


def test_soft_sharing_measures_how_far_apart_the_trunks_are() -> None:
    shown = inspected("soft_sharing")
    assert set(shown["distances"]) == {"a|b"} and shown["distances"]["a|b"] > 0
    assert 0 < shown["relative_distances"]["a|b"] < 3


def test_a_model_with_nothing_to_show_returns_an_empty_record() -> None:
    assert inspected("hps") == {}
