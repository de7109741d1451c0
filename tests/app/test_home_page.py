"""The Home page: the explanation, the picture, and presets that fill every setting and open Train."""

from __future__ import annotations

import pytest

from mtl_core.config import ExperimentConfig
from mtl_core.presets import PRESETS, Preset
from tests.app.conftest import open_app


def test_home_explains_mtl_and_draws_the_picture() -> None:
    at = open_app()
    assert "Multi-task learning" in at.markdown[0].value
    assert at.get("graphviz_chart") and [button.key for button in at.button][:5] == [
        f"home.preset.{item.key}" for item in PRESETS]


@pytest.mark.parametrize("item", PRESETS, ids=lambda item: item.key)
def test_a_preset_fills_every_setting_and_opens_train(item: Preset) -> None:
    at = open_app()
    at.button(key=f"home.preset.{item.key}").click().run()
    assert not at.exception and not at.error, [e.value for e in (*at.exception, *at.error)]
    assert at.title[0].value == "Train"
    wanted = ExperimentConfig.from_dict(item.config())
    assert ExperimentConfig.from_dict(at.session_state["config"]) == wanted
    assert at.selectbox(key="train.architecture").value == wanted.model.architecture
    assert at.selectbox(key="train.strategy").value == wanted.strategy.name
    assert at.number_input(key="train.epochs").value == wanted.train.epochs
    assert at.number_input(key="train.lr").value == pytest.approx(wanted.train.lr)
    for name, value in wanted.model.hparams.items():
        assert at.number_input(key=f"train.model.{name}").value == value
    for name, value in wanted.strategy.hparams.items():
        if name != "weights":
            assert at.number_input(key=f"train.strategy.{name}").value == pytest.approx(value)
