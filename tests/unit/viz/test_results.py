"""Result figures: confusion matrices and ROC curves hold sklearn's numbers for the test rows."""

from __future__ import annotations

import math
from typing import Any

import pytest
from sklearn.metrics import roc_auc_score

from mtl_core import viz

MULTICLASS: dict[str, Any] = {
    "row": [0, 1, 2, 3, 4, 5],
    "true": [0, 0, 1, 1, 2, 2],
    "pred": [0, 1, 1, 1, 2, 0],
    "proba": [[0.7, 0.2, 0.1], [0.3, 0.6, 0.1], [0.1, 0.8, 0.1], [0.2, 0.5, 0.3], [0.1, 0.1, 0.8], [0.5, 0.2, 0.3]],
    "classes": ["low", "mid", "high"],
}
BINARY: dict[str, Any] = {"true": [0, 0, 1, 1, 1], "pred": [0, 1, 1, 1, 0], "proba": [0.2, 0.6, 0.9, 0.7, 0.4],
                          "classes": [0, 1]}


def test_confusion_matrix_counts_true_rows_by_predicted_columns_with_class_labels() -> None:
    heatmap = viz.confusion_matrix_figure(MULTICLASS, "level").data[0]
    assert heatmap.z.tolist() == [[1, 1, 0], [0, 2, 0], [1, 0, 1]]
    assert list(heatmap.x) == list(heatmap.y) == ["low", "mid", "high"]
    assert heatmap.text.tolist() == heatmap.z.tolist() and heatmap.texttemplate == "%{text}"


def test_confusion_matrix_keeps_classes_that_no_test_row_holds() -> None:
    entry = {"true": [0, 0], "pred": [0, 0], "classes": ["a", "b", "c"]}
    assert viz.confusion_matrix_figure(entry, "t").data[0].z.tolist() == [[2, 0, 0], [0, 0, 0], [0, 0, 0]]


def test_confusion_matrix_axes_read_true_down_and_predicted_across() -> None:
    layout = viz.confusion_matrix_figure(BINARY, "good").layout
    assert layout.yaxis.title.text == "true good" and layout.xaxis.title.text == "predicted good"
    assert layout.yaxis.autorange == "reversed" and layout.xaxis.type == "category"


def test_confusion_matrix_of_no_rows_is_all_zeros() -> None:
    assert viz.confusion_matrix_figure({"true": [], "pred": [], "classes": [0, 1]}, "t").data[0].z.tolist() == [
        [0, 0], [0, 0]]


def test_binary_roc_is_one_curve_with_sklearns_auc_and_the_chance_line() -> None:
    figure = viz.roc_figure(BINARY, "good")
    curve, chance = figure.data
    assert curve.name == f"good (AUC {roc_auc_score(BINARY['true'], BINARY['proba']):.3g})"
    assert (curve.x[0], curve.y[0], curve.x[-1], curve.y[-1]) == (0.0, 0.0, 1.0, 1.0)
    assert chance.name == "chance" and list(chance.x) == list(chance.y) == [0.0, 1.0]


def test_multiclass_roc_has_one_vs_rest_curve_per_class() -> None:
    figure = viz.roc_figure(MULTICLASS, "level")
    names = [trace.name for trace in figure.data]
    aucs = [roc_auc_score([label == k for label in MULTICLASS["true"]], [row[k] for row in MULTICLASS["proba"]])
            for k in range(3)]
    assert names == [f"{label} vs rest (AUC {value:.3g})" for label, value in zip(["low", "mid", "high"], aucs)] + [
        "chance"]


def test_a_class_absent_from_the_test_rows_is_skipped_with_a_note() -> None:
    entry = {**MULTICLASS, "true": [0, 0, 1, 1, 0, 1]}
    figure = viz.roc_figure(entry, "level")
    assert [trace.name.split(" ")[0] for trace in figure.data] == ["low", "mid", "chance"]
    assert "no curve for high" in figure.layout.title.text


def test_a_binary_task_with_one_class_in_the_test_rows_draws_only_chance() -> None:
    figure = viz.roc_figure({"true": [1, 1], "proba": [0.3, 0.9], "classes": [0, 1]}, "good")
    assert [trace.name for trace in figure.data] == ["chance"] and "no curve for good" in figure.layout.title.text


def test_non_finite_probabilities_are_left_out_of_the_curve() -> None:
    entry = {**BINARY, "proba": [0.2, math.nan, 0.9, 0.7, 0.4]}
    curve = viz.roc_figure(entry, "good").data[0]
    assert curve.name == f"good (AUC {roc_auc_score([0, 1, 1, 1], [0.2, 0.9, 0.7, 0.4]):.3g})"


@pytest.mark.parametrize("builder", [viz.confusion_matrix_figure, viz.roc_figure])
def test_figures_name_the_task(builder: Any) -> None:
    assert "good" in builder(BINARY, "good").layout.title.text


def test_tasks_are_split_by_kind_in_config_order() -> None:
    results = {"config": {"tasks": [{"name": "q", "kind": "regression"}, {"name": "g", "kind": "binary"},
                                    {"name": "c", "kind": "multiclass"}, {"name": "r", "kind": "regression"}]}}
    assert viz.classification_tasks(results) == ["g", "c"]
    assert viz.regression_tasks(results) == ["q", "r"]
    assert viz.classification_tasks({}) == viz.regression_tasks({"config": {}}) == []


@pytest.mark.parametrize("entry", [BINARY, MULTICLASS], ids=["binary", "multiclass"])
def test_roc_legends_name_what_each_curve_is_and_stay_clear_of_the_axis_titles(entry: dict[str, Any]) -> None:
    figure = viz.roc_figure(entry, "good")
    assert not any(trace.name.split(" ")[0].isdigit() for trace in figure.data)  # never a bare "1"
    legend = figure.layout.legend
    assert legend.orientation != "h" and 0 <= legend.y <= 1 and 0 <= legend.x <= 1  # inside the plot, not under it
