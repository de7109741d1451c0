"""Figures comparing stored runs hold the numbers of the hand-made histories, metrics and configs they are given."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import pytest

from mtl_core import viz
from mtl_core.config import ExperimentConfig
from mtl_core.store.records import RunSummary

RUN = RunSummary("3f2a9c11", 0.0, 1.0, "completed", "", "wine", ("quality", "good"), "hps", "gradnorm", 3, 3,
                 1.0, "cpu", None, None, "cli")


def history(**losses: list[float]) -> list[dict[str, Any]]:
    """History entries with the same train and validation loss per task, epoch by epoch."""
    epochs = len(next(iter(losses.values())))
    return [{"epoch": epoch + 1, "train_loss": {task: values[epoch] for task, values in losses.items()},
             "val_loss": {task: values[epoch] for task, values in losses.items()}} for epoch in range(epochs)]


def config(**sections: dict[str, Any]) -> dict[str, Any]:
    tasks = [{"name": "quality", "column": "quality"}, {"name": "good", "column": "quality", "kind": "binary",
                                                        "threshold": 6}]
    return ExperimentConfig.from_dict({"tasks": tasks, **sections}).to_dict()


def test_labels_name_strategy_architecture_and_id_prefix() -> None:
    other = replace(RUN, id="77aa0000", strategy="pcgrad", architecture="mmoe")
    assert viz.run_labels([RUN, other]) == {"3f2a9c11": "gradnorm · hps · 3f2a", "77aa0000": "pcgrad · mmoe · 77aa"}


def test_labels_stay_unique_when_runs_share_everything_but_the_id() -> None:
    twins = [RUN, replace(RUN, id="3f2a9d00"), replace(RUN, id="3f2b0000")]
    labels = viz.run_labels(twins)
    assert len(set(labels.values())) == 3 and labels["3f2b0000"] == "gradnorm · hps · 3f2b"
    assert labels["3f2a9c11"].endswith("3f2a9c") and labels["3f2a9d00"].endswith("3f2a9d")


def test_a_comparison_run_is_labelled_by_the_method_it_stands_for() -> None:
    assert viz.run_labels([replace(RUN, label="stl")])[RUN.id] == "stl · hps · 3f2a"


def test_each_run_keeps_its_colour_in_every_panel_and_is_in_the_legend_once() -> None:
    figure = viz.overlay_curves({"A": history(quality=[3.0, 2.0], good=[0.7, 0.6]),
                                 "B": history(quality=[4.0, 1.0], good=[0.8, 0.5])})
    assert [trace.name for trace in figure.data] == ["A", "B", "A", "B"]
    colours = {(trace.name, trace.line.color) for trace in figure.data}
    assert len(colours) == 2 and len({colour for _, colour in colours}) == 2
    assert [trace.showlegend for trace in figure.data] == [True, True, False, False]
    assert [(trace.xaxis, list(trace.y)) for trace in figure.data] == [
        ("x", [3.0, 2.0]), ("x", [4.0, 1.0]), ("x2", [0.7, 0.6]), ("x2", [0.8, 0.5])]
    assert figure.layout.yaxis.matches is None and figure.layout.yaxis2.matches is None  # own scales
    assert figure.layout.title.text == "Loss by epoch (validation)"


def test_a_task_only_one_run_has_gets_a_panel_with_that_run_alone() -> None:
    figure = viz.overlay_curves({"A": history(quality=[3.0]), "B": history(quality=[2.0], extra=[9.0])}, split="train")
    assert [annotation.text for annotation in figure.layout.annotations] == ["quality", "extra"]
    assert [(trace.name, trace.xaxis) for trace in figure.data] == [("A", "x"), ("B", "x"), ("B", "x2")]
    assert [trace.showlegend for trace in figure.data] == [True, True, False]
    assert figure.layout.title.text == "Loss by epoch (train)"


def test_runs_without_validation_losses_leave_a_note_instead_of_a_line() -> None:
    entries = [{"epoch": 1, "train_loss": {"quality": 1.0}, "val_loss": {}}]
    figure = viz.overlay_curves({"A": entries, "B": entries})
    assert not figure.data and "no validation loss" in [annotation.text for annotation in figure.layout.annotations]
    assert [trace.name for trace in viz.overlay_curves({"A": entries}, split="train").data] == ["A"]


def test_log_y_sets_every_panel_to_a_log_axis() -> None:
    figure = viz.overlay_curves({"A": history(quality=[3.0], good=[0.5])}, log_y=True)
    assert figure.layout.yaxis.type == "log" and figure.layout.yaxis2.type == "log"


TEST_METRICS = {
    "A": {"quality": {"mse": 0.50, "r2": 0.30}, "good": {"accuracy": 0.80, "auc": None}},
    "B": {"quality": {"mse": 0.40, "r2": 0.20}, "good": {"accuracy": 0.85, "auc": 0.90}},
}


def test_metrics_sit_side_by_side_one_row_per_task_metric() -> None:
    table = viz.metric_comparison(TEST_METRICS)
    assert list(table.index) == ["quality.mse", "quality.r2", "good.accuracy", "good.auc"]
    assert list(table.columns) == ["A", "B", "best"]
    assert table.loc["quality.mse", "A"] == 0.50 and table.loc["good.auc", "B"] == 0.90
    assert math.isnan(table.loc["good.auc", "A"])


def test_best_is_the_lowest_error_and_the_highest_score() -> None:
    best = viz.metric_comparison(TEST_METRICS)["best"].to_dict()
    assert best == {"quality.mse": "B", "quality.r2": "A", "good.accuracy": "B", "good.auc": "B"}
    losses = viz.metric_comparison({"A": {"y": {"val_loss": 0.2}}, "B": {"y": {"val_loss": 0.1}}})
    assert losses["best"].tolist() == ["B"]


def test_a_row_without_values_or_a_known_direction_has_no_best() -> None:
    table = viz.metric_comparison({"A": {"y": {"mse": None, "custom": 1.0}}, "B": {"y": {"mse": None, "custom": 2.0}}})
    assert table["best"].tolist() == ["—", "—"]


def test_flattening_gives_dotted_keys_and_lists_as_text() -> None:
    flat = viz.flatten_config(config(model={"hidden": [64, 64]}))
    assert flat["model.hidden"] == "64, 64" and flat["tasks.1.threshold"] == 6.0 and flat["train.lr"] == 0.003
    assert flat["strategy.name"] == "equal" and flat["tasks.0.metrics"] == "mse, rmse, mae, r2"
    assert "data.params" not in flat and not any(isinstance(value, (dict, list)) for value in flat.values())


def test_the_diff_holds_exactly_the_settings_that_differ() -> None:
    a = config(strategy={"name": "gradnorm", "alpha": 1.5}, train={"lr": 0.01})
    b = config(strategy={"name": "pcgrad"}, train={"lr": 0.001})
    b["tasks"][0]["loss"] = "huber"
    diff = viz.config_diff(a, b, names=("run 1", "run 2"))
    assert list(diff.columns) == ["setting", "run 1", "run 2"]
    assert diff.values.tolist() == [["strategy.alpha", "1.5", "—"], ["strategy.name", "gradnorm", "pcgrad"],
                                    ["tasks.0.loss", "mse", "huber"], ["train.lr", "0.01", "0.001"]]


def test_a_list_setting_and_a_boolean_show_as_text_in_the_diff() -> None:
    diff = viz.config_diff(config(model={"hidden": [64, 64]}), config(data={"stratify": False}))
    assert diff.values.tolist() == [["data.stratify", "true", "false"], ["model.hidden", "64, 64", "128, 128"]]


def test_equal_configs_give_an_empty_table_with_its_columns() -> None:
    diff = viz.config_diff(config(), config())
    assert diff.empty and list(diff.columns) == ["setting", "A", "B"]


def test_varying_settings_leave_out_constant_and_excluded_keys() -> None:
    rows = [{"lr": 0.1, "epochs": 5, "score": 1.0}, {"lr": 0.2, "epochs": 5, "score": 2.0}, {"lr": 0.1, "epochs": 5}]
    assert viz.varying_settings(rows, exclude={"score"}) == ["lr"]
    assert viz.varying_settings(rows) == ["lr", "score"]  # missing from a row counts as differing
    assert viz.varying_settings([{"flag": True}, {"flag": 1}]) == ["flag"]


SWEEP = [
    {"strategy.name": "gradnorm", "train.lr": 0.0001, "train.epochs": 50, "quality.mse": 0.6},
    {"strategy.name": "equal", "train.lr": 0.001, "train.epochs": 50, "quality.mse": 0.4},
    {"strategy.name": "pcgrad", "train.lr": 0.01, "train.epochs": 50, "quality.mse": 0.5},
    {"strategy.name": "equal", "train.lr": 0.1, "train.epochs": 50, "quality.mse": None},
]


def dimensions(figure: Any) -> dict[str, Any]:
    (trace,) = figure.data
    assert trace.type == "parcoords"
    return {dimension.label: dimension for dimension in trace.dimensions}


def test_the_parallel_plot_has_an_axis_per_varying_setting_and_the_metric_last() -> None:
    figure = viz.hyperparameter_plot(SWEEP, "quality.mse")
    axes = dimensions(figure)
    assert list(axes) == ["strategy.name", "log10 train.lr", "quality.mse"]  # train.epochs is constant
    assert list(axes["log10 train.lr"].values) == pytest.approx([-4.0, -3.0, -2.0])
    assert list(axes["quality.mse"].values) == [0.6, 0.4, 0.5]
    assert list(figure.data[0].line.color) == [0.6, 0.4, 0.5]
    assert figure.data[0].line.colorbar.title.text == "quality.mse"


def test_a_text_setting_is_a_categorical_axis() -> None:
    strategy = dimensions(viz.hyperparameter_plot(SWEEP, "quality.mse"))["strategy.name"]
    assert list(strategy.ticktext) == ["equal", "gradnorm", "pcgrad"] and list(strategy.tickvals) == [0, 1, 2]
    assert list(strategy.values) == [1, 0, 2]


def test_a_narrow_numeric_setting_stays_linear_and_a_boolean_is_zero_or_one() -> None:
    rows = [{"train.lr": 0.002, "data.stratify": True, "m": 1.0}, {"train.lr": 0.003, "data.stratify": False, "m": 2.0}]
    axes = dimensions(viz.hyperparameter_plot(rows, "m"))
    assert list(axes["train.lr"].values) == [0.002, 0.003]
    assert list(axes["data.stratify"].values) == [1, 0] and list(axes["data.stratify"].ticktext) == ["false", "true"]


def test_a_setting_some_runs_lack_shows_them_as_not_set() -> None:
    rows = [{"strategy.alpha": 10.0, "m": 1.0}, {"m": 2.0}, {"strategy.alpha": 2.0, "m": 3.0}]
    alpha = dimensions(viz.hyperparameter_plot(rows, "m"))["strategy.alpha"]
    assert list(alpha.ticktext) == ["2.0", "10.0", "—"] and list(alpha.values) == [1, 2, 0]  # numbers in order


@pytest.mark.parametrize("rows", [SWEEP[3:], SWEEP[:1] + SWEEP[3:], []], ids=["none", "one", "empty"])
def test_fewer_than_two_runs_with_the_metric_give_a_note(rows: list[dict[str, Any]]) -> None:
    figure = viz.hyperparameter_plot(rows, "quality.mse")
    assert not figure.data
    assert [annotation.text for annotation in figure.layout.annotations] == [
        "At least two finished runs with quality.mse are needed to compare settings."]
