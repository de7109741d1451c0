"""The address bar is the share link: a link restores every setting; a bad one warns and never breaks the page."""

from __future__ import annotations

from mtl_core.config import ExperimentConfig
from mtl_core.presets import preset
from mtl_core.share import to_query
from tests.app.conftest import open_app


def test_a_link_restores_data_tasks_model_strategy_and_settings() -> None:
    wanted = ExperimentConfig.from_dict(preset("mmoe-correlation").config()).with_overrides(
        ["strategy.name=gradnorm", "strategy.alpha=0.75", "train.epochs=7", "train.seed=3", "model.n_experts=3"])
    at = open_app(query=to_query(wanted))
    assert not at.warning, [item.value for item in at.warning]
    at.switch_page("pages/train.py").run()
    assert ExperimentConfig.from_dict(at.session_state["config"]) == wanted
    assert at.selectbox(key="train.architecture").value == "mmoe"
    assert at.number_input(key="train.model.n_experts").value == 3
    assert at.selectbox(key="train.strategy").value == "gradnorm"
    assert at.number_input(key="train.strategy.alpha").value == 0.75
    assert at.number_input(key="train.epochs").value == 7 and at.number_input(key="train.seed").value == 3


def test_the_seed_preset_travels_through_a_link_unchanged() -> None:
    wanted = ExperimentConfig.from_dict(preset("wine-seed").config())
    at = open_app(query=to_query(wanted))
    assert not at.warning
    at.switch_page("pages/train.py").run()
    assert ExperimentConfig.from_dict(at.session_state["config"]) == wanted


def test_a_bad_link_opens_the_nearest_valid_setup_with_warnings_naming_each_parameter() -> None:
    at = open_app(query={  # the entry file shows the warnings above whichever page the link opens
        "data.dataset": "wine-rde", "train.epochs": "0", "strategy.name": "pcgard", "train.lr": "fast",
        "nonsense.key": "1",
    })
    assert not at.exception
    warnings = " ".join(item.value for item in at.warning)
    for parameter in ("data.dataset", "train.epochs", "strategy.name", "train.lr", "nonsense.key"):
        assert parameter in warnings, parameter
    config = ExperimentConfig.from_dict(at.session_state["config"])
    assert (config.data.dataset, config.train.epochs, config.strategy.name) == ("wine-red", 1, "pcgrad")
    at.button(key="app.dismiss_link_warnings").click().run()
    assert not at.warning and not at.exception


def test_a_link_naming_a_file_says_uploads_cannot_travel() -> None:
    at = open_app(query={"data.path": "/tmp/mine.csv", "train.epochs": "5"})
    assert not at.exception
    assert any("cannot travel in a link" in item.value for item in at.warning)
    assert at.session_state["config"]["train"]["epochs"] == 5


def test_a_link_with_a_kept_epoch_setting_selects_it_in_the_menu() -> None:
    wanted = ExperimentConfig().with_overrides(["train.select=high_progression.auc", "train.patience=5"])
    at = open_app(query=to_query(wanted))
    at.switch_page("pages/train.py").run()
    assert not at.exception and at.selectbox(key="train.select").value == "high_progression.auc"
    assert ExperimentConfig.from_dict(at.session_state["config"]) == wanted
