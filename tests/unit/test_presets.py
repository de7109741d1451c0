"""The dashboard's presets: each is a valid config that trains, and looking one up by a wrong key helps."""

from __future__ import annotations

import pytest

from mtl_core.config import ExperimentConfig
from mtl_core.errors import UnknownNameError
from mtl_core.experiment import run_to_results
from mtl_core.presets import PRESETS, preset
from tests.conftest import skip_unless_local


def test_the_five_presets_of_the_home_page_are_there() -> None:
    assert [item.title for item in PRESETS] == [
        "The seed: wine quality, two heads", "Loss scales clash: wine with GradNorm",
        "Correlated vs unrelated tasks (MMoE synthetic)", "Cells: image + time (CNN)",
        "Digits: three tasks from one image",
    ]


@pytest.mark.parametrize("item", PRESETS, ids=lambda item: item.key)
def test_every_preset_trains_two_epochs_to_completion(item: object) -> None:
    config = ExperimentConfig.from_dict(preset(item.key).config()).with_overrides(["train.epochs=2"])  # type: ignore[attr-defined]
    skip_unless_local(config.data.source)
    results = run_to_results(config)
    assert results["status"] == "completed" and len(results["history"]) == 2
    assert set(results["metrics"]["test"]) == {task["name"] for task in results["config"]["tasks"]}


def test_a_preset_config_is_a_copy_the_caller_may_change() -> None:
    first = preset("wine-seed").config()
    first["train"]["epochs"] = 1
    assert preset("wine-seed").config()["train"]["epochs"] == 100


def test_a_misspelt_preset_key_names_the_closest_one() -> None:
    with pytest.raises(UnknownNameError, match="wine-seed"):
        preset("wine-sed")
