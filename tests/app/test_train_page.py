"""The Train page through AppTest: every strategy's and architecture's form, a run with all its charts, Stop."""

from __future__ import annotations

import json
from typing import Any

import pytest

from streamlit.testing.v1 import AppTest

from mtl_core import weighting
from mtl_core.jobs import job_manager
from mtl_core.models import ARCHITECTURES
from tests.app.conftest import open_app, run_to_the_end


def chart_titles(at: AppTest) -> list[str]:
    return [json.loads(chart.proto.spec)["layout"]["title"]["text"] for chart in at.get("plotly_chart")]


def test_the_page_opens_on_the_default_setup() -> None:
    at = open_app("pages/train.py")
    assert "**diabetes**" in at.markdown[0].value
    assert at.selectbox(key="train.strategy").value == "equal"
    assert at.selectbox(key="train.architecture").value == "hps"
    assert at.button(key="train.stop").disabled and not at.button(key="train.start").disabled


@pytest.mark.parametrize("name", weighting.available())
def test_each_strategy_shows_its_idea_and_a_form_from_its_schema(name: str) -> None:
    at = open_app("pages/train.py")
    at.selectbox(key="train.strategy").select(name).run()
    assert not at.exception and not at.error
    described = weighting.describe(name)[0]
    assert any(described["summary"] in caption.value for caption in at.caption)
    fields = set(described["hparams"].get("properties", {}))
    if name == "static":
        assert {slider.key for slider in at.slider} >= {"train.weight.progression", "train.weight.high_progression"}
        return
    drawn = {widget.key for kind in ("number_input", "selectbox", "text_input", "toggle", "radio")
             for widget in at.get(kind)}
    assert {f"train.strategy.{field}" for field in fields} <= drawn


def test_choosing_gradnorm_shows_its_alpha_and_it_reaches_the_config() -> None:
    at = open_app("pages/train.py")
    at.selectbox(key="train.strategy").select("gradnorm").run()
    assert at.number_input(key="train.strategy.alpha").value == 1.5
    at.number_input(key="train.strategy.alpha").set_value(0.5).run()
    assert at.session_state["config"]["strategy"] == {"name": "gradnorm", "alpha": 0.5}
    assert at.query_params["strategy.alpha"] == "0.5"


@pytest.mark.parametrize("name", weighting.available(kind="gradient"))
def test_a_gradient_method_offers_both_spaces_with_the_trade_off(name: str) -> None:
    at = open_app("pages/train.py")
    at.selectbox(key="train.strategy").select(name).run()
    if "space" not in weighting.describe(name)[0]["hparams"].get("properties", {}):
        pytest.skip(f"{name} takes its gradients in one space only")
    choice = at.radio(key="train.strategy.space")
    assert choice.options == ["shared parameters (exact)", "shared representation (fast)"]
    captions = " ".join(caption.value for caption in at.caption)
    assert "representation" in captions and "parameters" in captions
    choice.set_value("representation").run()
    assert not at.exception
    assert at.session_state["config"]["strategy"] == {"name": name, "space": "representation"}
    assert at.query_params["strategy.space"] == "representation"


def test_static_weight_sliders_set_the_loss_weights() -> None:
    at = open_app("pages/train.py")
    at.selectbox(key="train.strategy").select("static").run()
    at.slider(key="train.weight.progression").set_value(2.5).run()
    assert at.session_state["config"]["strategy"] == {"name": "static", "weights": [2.5, 1.0]}


@pytest.mark.parametrize("name", ARCHITECTURES.names())
def test_each_architecture_shows_its_own_settings(name: str) -> None:
    at = open_app("pages/train.py")
    at.selectbox(key="train.architecture").select(name).run()
    assert not at.exception and not at.error
    assert at.session_state["config"]["model"]["architecture"] == name


def test_a_short_run_draws_curves_weights_metrics_plots_and_offers_downloads() -> None:
    at = open_app("pages/train.py")
    at.number_input(key="train.epochs").set_value(3).run()
    at.button(key="train.start").click().run()
    assert not at.exception and not at.error
    job_id = run_to_the_end(at)

    assert not at.exception and not at.error and job_manager().status(job_id) == "completed"
    assert "completed: epoch 3 of 3" in at.get("progress")[0].proto.text
    titles = chart_titles(at)
    assert titles[0] == "Loss by epoch (solid: train, dashed: validation)"
    assert "progression: predicted vs true (test split)" in titles
    assert any(title.startswith("high_progression: confusion matrix") for title in titles)
    assert any(title.startswith("high_progression: ROC") for title in titles)
    loss = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert {trace["name"] for trace in loss["data"]} >= {"progression (train)", "high_progression (val)"}
    table = at.dataframe[-1].value
    assert table.index.tolist() == ["progression", "high_progression"] and "r2" in table.columns
    assert {button.proto.label for button in at.get("download_button")} == {
        "Config (TOML)", "Results (JSON)", "Predictions (CSV)", "Model weights (.pt)"}
    assert any(code.value == "python -m mtl_core run experiment.toml --out results.json" for code in at.code)
    assert not at.button(key="train.start").disabled and at.button(key="train.stop").disabled
    at.button_group(key="train.view").set_value("Task weights").run()
    assert chart_titles(at)[0] == "Task weight by epoch (mean over the epoch's steps)"
    at.button_group(key="train.view").set_value("Validation metrics").run()
    assert chart_titles(at)[0] == "Validation metrics by epoch"


def test_stop_ends_the_run_and_keeps_its_curve_and_evaluation() -> None:
    at = open_app("pages/train.py")
    at.number_input(key="train.epochs").set_value(5000).run()
    at.button(key="train.start").click().run()
    current = at.session_state["job_id"]
    assert job_manager().wait_for_events(current, 3, timeout=60)  # RunStarted and two epochs
    at.button(key="train.stop").click().run()
    run_to_the_end(at)

    assert not at.exception and job_manager().status(current) == "stopped"
    assert at.get("progress")[0].proto.text.startswith("stopped: epoch ")
    assert any("stopped by the user" in info.value for info in at.info)
    assert at.get("plotly_chart") and at.dataframe[-1].value.shape[0] == 2


def test_a_settings_error_is_shown_and_start_stays_off() -> None:
    at = open_app("pages/train.py")
    at.text_input(key="train.hidden").input("64, x").run()
    assert not at.exception
    assert any("Hidden units per layer: '64, x'" in error.value for error in at.error)
    at.selectbox(key="train.strategy").select("gradnorm").run()
    assert "nosuchtask.auc" not in at.selectbox(key="train.select").options  # a menu: only the tasks' own values
    assert not at.exception and "job_id" not in at.session_state


def test_leaving_the_page_and_coming_back_finds_the_run_still_going() -> None:
    at = open_app("pages/train.py")
    at.number_input(key="train.epochs").set_value(5000).run()
    at.button(key="train.start").click().run()
    current = at.session_state["job_id"]
    assert job_manager().wait_for_events(current, 2, timeout=60)
    at.switch_page("pages/home.py").run()
    at.switch_page("pages/train.py").run()
    assert at.session_state["job_id"] == current and job_manager().status(current) == "running"
    assert at.get("progress")[0].proto.text.startswith("running: epoch ")
    assert not at.button(key="train.stop").disabled and at.button(key="train.start").disabled
    at.button(key="train.stop").click().run()
    assert job_manager().wait(current, timeout=60) and job_manager().status(current) == "stopped"


def test_keep_the_best_epoch_by_is_a_menu_of_val_loss_and_each_tasks_metrics() -> None:
    at = open_app("pages/train.py")
    menu = at.selectbox(key="train.select")
    assert menu.options[:3] == ["the last epoch", "val_loss (the summed validation loss)", "progression.mse"]
    assert "high_progression.auc" in menu.options and menu.value is None
    menu.select("high_progression.auc").run()
    assert not at.exception and at.session_state["config"]["train"]["select"] == "high_progression.auc"


def test_the_copy_link_button_holds_this_setups_link_and_says_when_it_is_copied() -> None:
    at = open_app("pages/train.py")
    at.selectbox(key="train.strategy").select("gradnorm").run()
    (button,) = at.get("iframe")
    source = button.proto.srcdoc
    assert "Copy link" in source and "navigator.clipboard.writeText" in source and "Link copied" in source
    assert "?strategy.name=gradnorm" in source and not at.get("popover")


def loss_figure(at: AppTest) -> dict[str, Any]:
    return next(json.loads(chart.proto.spec) for chart in at.get("plotly_chart")
                if "Loss by epoch" in json.loads(chart.proto.spec)["layout"]["title"]["text"])


def test_a_run_that_overfits_draws_a_panel_per_task_marks_the_kept_epoch_and_says_so() -> None:
    # diabetes with a wide net, lr 0.01 and no weight decay: its validation loss rises after epoch ~20
    at = open_app("pages/train.py", query={"model.hidden": "[64,64]", "train.lr": "0.01", "train.weight_decay": "0.0"})
    at.selectbox(key="train.select").select("val_loss").run()
    at.button(key="train.start").click().run()
    run_to_the_end(at)
    assert not at.exception
    best = job_manager().snapshot(at.session_state["job_id"]).results["best_epoch"]
    figure = loss_figure(at)
    assert [note["text"] for note in figure["layout"]["annotations"]] == ["progression", "high_progression"]
    assert {trace["yaxis"] for trace in figure["data"]} == {"y", "y2"}  # each task on its own axis
    assert [shape["x0"] for shape in figure["layout"]["shapes"]] == [best, best]
    warnings = " ".join(warning.value for warning in at.warning)
    assert "Overfitting" in warnings and f"those of epoch {best}" in warnings
    assert any(f"epoch {best}, the best by val_loss" in caption.value for caption in at.caption)
