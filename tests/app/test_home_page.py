"""The Home page: the explanation, the picture, and presets that fill every setting and open Train."""

from __future__ import annotations

from pathlib import Path

import pytest

from mtl_core.config import ExperimentConfig
from mtl_core.presets import PRESETS, Preset
from tests.app.conftest import open_app
from tests.conftest import skip_unless_local


def test_home_explains_mtl_and_draws_the_picture() -> None:
    at = open_app()
    assert "Multi-task learning" in at.markdown[0].value
    shown = sorted(str(button.key) for button in at.button if str(button.key).startswith("home.preset."))
    assert at.get("graphviz_chart") and shown == sorted(f"home.preset.{item.key}" for item in PRESETS)


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


def test_presets_that_need_a_download_are_marked_and_listed_after_the_ready_ones(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MTL_DATA_DIR", str(tmp_path))  # no wine files here, and the cache is empty
    at = open_app()
    keys = [button.key for button in at.button if str(button.key).startswith("home.preset.")]
    wine = [item.key for item in PRESETS if str(item.values["data"].get("dataset", "")).startswith("wine")]
    assert wine and keys == [f"home.preset.{key}" for key in
                             [item.key for item in PRESETS if item.key not in wine] + wine]
    marked = [item.value for item in at.markdown if "needs a one-time download" in item.value]
    assert len(marked) == len(wine) and all(any(item.title in text for text in marked)
                                            for item in PRESETS if item.key in wine)
    assert at.button(key=keys[0]).proto.type == "primary"  # the first ready preset is the one suggested


def test_presets_whose_files_are_here_are_not_marked() -> None:
    skip_unless_local("wine")
    at = open_app()
    assert not [item.value for item in at.markdown if "download" in item.value]


def test_the_page_icon_is_drawn_without_a_font_server() -> None:
    source = (Path(__file__).resolve().parents[2] / "app.py").read_text(encoding="utf-8")
    assert 'page_icon=":material' not in source and "page_icon=" in source
