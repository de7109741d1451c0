"""Figure builders: the figures and tables hold the numbers they were given."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from mtl_core import viz
from mtl_core.train.events import EpochEnded, Event, RunEnded, RunStarted


def epoch(number: int, train: dict[str, float], val: dict[str, float]) -> EpochEnded:
    """An EpochEnded with only the losses filled in."""
    return EpochEnded(number, train, val, weights={}, metrics={}, duration_s=0.1, elapsed_s=0.1 * number)


def run_events() -> list[Event]:
    """A two-task, three-epoch run as the trainer yields it."""
    started = RunStarted(("quality", "good"), 3, 10, 2, 3, 100, "cpu", "equal")
    epochs = [epoch(n, {"quality": 1.0 / n, "good": 0.7 / n}, {"quality": 1.5 / n, "good": 0.8 / n}) for n in (1, 2, 3)]
    return [started, *epochs, RunEnded("completed", "", 3, 0.3)]


def traces(figure: Any) -> dict[str, tuple[list[float], list[float]]]:
    """Trace name -> (x, y)."""
    return {trace.name: (list(trace.x), list(trace.y)) for trace in figure.data}


def test_loss_curves_draw_train_and_val_per_task_by_epoch() -> None:
    drawn = traces(viz.loss_curves(run_events()))
    assert list(drawn) == ["quality (train)", "quality (val)", "good (train)", "good (val)"]
    assert drawn["quality (train)"] == ([1, 2, 3], [1.0, 0.5, 1.0 / 3])
    assert drawn["good (val)"] == ([1, 2, 3], [0.8, 0.4, 0.8 / 3])


def test_loss_curves_read_a_results_history_like_events() -> None:
    history = [{key: value for key, value in event.to_dict().items() if key != "type"}
               for event in run_events() if isinstance(event, EpochEnded)]
    assert traces(viz.loss_curves(history)) == traces(viz.loss_curves(run_events()))


def test_one_colour_per_task_solid_for_train_dashed_for_val() -> None:
    figure = viz.loss_curves(run_events())
    styles = {trace.name: (trace.line.color, trace.line.dash) for trace in figure.data}
    assert styles["quality (train)"][0] == styles["quality (val)"][0] != styles["good (train)"][0]
    assert [styles["good (train)"][1], styles["good (val)"][1]] == ["solid", "dash"]


def test_log_y_sets_a_log_axis() -> None:
    assert viz.loss_curves(run_events(), log_y=True).layout.yaxis.type == "log"
    assert viz.loss_curves(run_events()).layout.yaxis.type == "linear"


def test_a_run_without_validation_rows_draws_train_curves_only() -> None:
    figure = viz.loss_curves([epoch(1, {"a": 1.0}, {}), epoch(2, {"a": 0.5}, {})])
    assert list(traces(figure)) == ["a (train)"]


def test_no_epochs_yet_is_an_empty_figure() -> None:
    assert viz.loss_curves(run_events()[:1]).data == ()


def test_pred_vs_true_scatters_the_rows_and_spans_y_equals_x_over_both_ranges() -> None:
    figure = viz.pred_vs_true({"row": [4, 7, 9], "true": [1.0, 2.0, 5.0], "pred": [0.5, 2.5, 4.0]}, "quality")
    points, line = figure.data
    assert (list(points.x), list(points.y), list(points.customdata)) == ([1.0, 2.0, 5.0], [0.5, 2.5, 4.0], [4, 7, 9])
    assert list(line.x) == list(line.y) == [0.5, 5.0]
    assert "quality" in figure.layout.title.text and figure.layout.xaxis.title.text == "true quality"


def test_pred_vs_true_ignores_non_finite_values_for_the_line() -> None:
    line = viz.pred_vs_true({"true": [1.0, 2.0], "pred": [math.nan, 3.0]}, "q").data[1]
    assert list(line.x) == [1.0, 3.0]


def test_metrics_table_is_task_by_metric_with_nan_for_missing_values() -> None:
    metrics: dict[str, dict[str, float | None]] = {"quality": {"r2": 0.25, "mse": 0.5}, "good": {"auc": None, "accuracy": 0.75}}
    table = viz.metrics_table(metrics)
    assert table.index.name == "task" and table.index.tolist() == ["quality", "good"]
    assert table.columns.tolist() == ["mse", "r2", "accuracy", "auc"]
    assert table.loc["quality", "mse"] == 0.5 and table.loc["good", "accuracy"] == 0.75
    assert table[["auc"]].isna().all().all() and math.isnan(table.loc["quality", "accuracy"])
    assert all(dtype == float for dtype in table.dtypes)


def test_metrics_table_of_nothing_is_empty() -> None:
    assert viz.metrics_table({}).equals(pd.DataFrame(index=pd.Index([], name="task"), dtype=float))
