"""Figure builders: the figures and tables hold the numbers they were given."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import pytest

from mtl_core import viz
from mtl_core.viz.training import overfitting_note
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
    assert viz.loss_curves(run_events(), log_y=True).layout.yaxis2.type == "log"
    assert viz.loss_curves(run_events()).layout.yaxis.type == "linear"


def clashing_scales() -> list[EpochEnded]:
    """The GradNorm preset's shape: an MSE in the thousands beside a cross-entropy near 0.7."""
    return [epoch(n, {"sulfur": 4000.0 / n, "good": 0.7 - 0.01 * n}, {"sulfur": 4200.0 / n, "good": 0.72 - 0.01 * n})
            for n in range(1, 6)]


def test_each_task_gets_its_own_panel_and_y_axis_so_a_small_loss_is_not_flat() -> None:
    figure = viz.loss_curves(clashing_scales())
    axes = {trace.name: trace.yaxis for trace in figure.data}
    assert axes["sulfur (train)"] == axes["sulfur (val)"] != axes["good (train)"] == axes["good (val)"]
    assert [note.text for note in figure.layout.annotations] == ["sulfur", "good"]
    assert figure.layout.yaxis.matches is None and figure.layout.yaxis2.matches is None


def test_one_axis_for_every_task_is_still_offered() -> None:
    figure = viz.loss_curves(clashing_scales(), panels=False)
    assert {trace.yaxis for trace in figure.data} == {None} and figure.layout.annotations == ()


def test_relative_losses_start_at_one_for_every_task() -> None:
    drawn = traces(viz.loss_curves(clashing_scales(), relative=True, panels=False))
    assert {name: y[0] for name, (_, y) in drawn.items()} == dict.fromkeys(drawn, 1.0)
    assert drawn["sulfur (train)"][1][1] == pytest.approx(0.5)
    assert "first epoch" in viz.loss_curves(clashing_scales(), relative=True).layout.title.text


def test_the_kept_epoch_is_marked_in_every_panel() -> None:
    figure = viz.loss_curves(clashing_scales(), best_epoch=3)
    lines = [(shape.x0, shape.x1, shape.yref) for shape in figure.layout.shapes]
    assert lines == [(3, 3, "y domain"), (3, 3, "y2 domain")]
    assert "epoch 3, the one kept" in figure.layout.title.text
    assert viz.loss_curves(clashing_scales()).layout.shapes == ()


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


def test_zero_smoothing_draws_the_raw_losses() -> None:
    assert traces(viz.loss_curves(run_events(), smoothing=0.0)) == traces(viz.loss_curves(run_events()))


def test_smoothing_is_a_debiased_moving_average_that_keeps_the_first_point() -> None:
    figure = viz.loss_curves([epoch(n, {"a": value}, {}) for n, value in enumerate([4.0, 0.0, 2.0], start=1)],
                             smoothing=0.5)
    x, y = traces(figure)["a (train)"]
    # m: 2, 1, 1.5; debiased by 1 - 0.5^n: 0.5, 0.75, 0.875
    assert x == [1, 2, 3] and y == [4.0, 1.0 / 0.75, 1.5 / 0.875]


def test_smoothing_outside_zero_to_one_is_refused() -> None:
    with pytest.raises(ValueError, match="smoothing"):
        viz.loss_curves(run_events(), smoothing=1.0)


def test_smoothing_skips_non_finite_values() -> None:
    assert viz.smooth([1.0, math.inf, 1.0], 0.9) == [1.0, math.inf, 1.0]


def weighted(number: int, weights: dict[str, float]) -> EpochEnded:
    """An EpochEnded with losses and weights for tasks a and b."""
    return EpochEnded(number, {"a": 1.0, "b": 2.0}, {}, weights=weights, metrics={}, duration_s=1.0, elapsed_s=number)


def test_weight_curves_draw_each_tasks_weight_by_epoch_in_its_loss_colour() -> None:
    events = [weighted(1, {"a": 1.0, "b": 1.0}), weighted(2, {"a": 0.5, "b": 1.5})]
    figure = viz.weight_curves(events)
    assert traces(figure) == {"a": ([1, 2], [1.0, 0.5]), "b": ([1, 2], [1.0, 1.5])}
    loss_colours = {trace.name: trace.line.color for trace in viz.loss_curves(events).data}
    assert {trace.name: trace.line.color for trace in figure.data} == {
        "a": loss_colours["a (train)"], "b": loss_colours["b (train)"]}


def test_a_strategy_without_weights_gets_an_empty_figure_that_says_so() -> None:
    figure = viz.weight_curves([weighted(1, {}), weighted(2, {})])
    assert figure.data == () and "no per-task weights" in figure.layout.annotations[0].text


def test_each_live_figure_before_the_first_epoch_says_what_will_be_drawn() -> None:
    for build, what in ((viz.loss_curves, "loss"), (viz.weight_curves, "weight"),
                        (viz.metric_curves, "validation metrics")):
        figure = build([])
        assert figure.data == () and f"each task's {what} is drawn here" in figure.layout.annotations[0].text
    titles = [note.text for note in viz.loss_curves([weighted(1, {})]).layout.annotations]
    assert titles == ["a", "b"]  # the panels' titles only, no note


def scored(number: int, metrics: dict[str, dict[str, float | None]]) -> dict[str, Any]:
    """A history entry with validation metrics."""
    return {"epoch": number, "train_loss": {"q": 1.0, "g": 0.5}, "val_loss": {}, "metrics": metrics,
            "duration_s": 2.0, "elapsed_s": 2.0 * number}


def test_metric_curves_draw_each_tasks_first_metric_in_its_own_panel() -> None:
    history = [scored(n, {"q": {"r2": 0.1 * n, "mse": 1.0 / n}, "g": {"accuracy": 0.5 + 0.1 * n}}) for n in (1, 2)]
    figure = viz.metric_curves(history)
    assert traces(figure) == {"q: r2": ([1, 2], [0.1, 0.2]), "g: accuracy": ([1, 2], [0.6, 0.7])}
    assert [trace.xaxis for trace in figure.data] == ["x", "x2"]  # one panel each: different scales
    assert [title.text for title in figure.layout.annotations] == ["q: r2", "g: accuracy"]


def test_metric_curves_draw_the_metric_asked_for_and_fall_back_when_it_was_not_recorded() -> None:
    history = [scored(1, {"q": {"r2": 0.1, "mse": 1.0}, "g": {"accuracy": 0.5}})]
    assert list(traces(viz.metric_curves(history, {"q": "mse", "g": "auc"}))) == ["q: mse", "g: accuracy"]


@pytest.mark.parametrize(("tasks", "grid"), [(1, (1, 1)), (3, (1, 3)), (4, (2, 2)), (6, (2, 3))])
def test_metric_panels_stay_in_a_readable_grid(tasks: int, grid: tuple[int, int]) -> None:
    history = [scored(1, {f"t{index}": {"mse": 1.0} for index in range(tasks)})]
    figure = viz.metric_curves(history)
    x_domains = {tuple(figure.layout[f"xaxis{n if n > 1 else ''}"].domain) for n in range(1, tasks + 1)}
    y_domains = {tuple(figure.layout[f"yaxis{n if n > 1 else ''}"].domain) for n in range(1, tasks + 1)}
    assert (len(y_domains), len(x_domains)) == grid


def test_a_run_without_validation_rows_has_a_note_instead_of_metric_curves() -> None:
    figure = viz.metric_curves(run_events())
    assert figure.data == () and "no validation rows" in figure.layout.annotations[0].text


def test_eta_is_the_remaining_epochs_times_the_mean_epoch_duration() -> None:
    history = [scored(1, {}) | {"duration_s": 1.0}, scored(2, {}) | {"duration_s": 3.0}]
    assert viz.eta_seconds(history, 10) == 16.0
    assert viz.eta_seconds(history, 2) == 0.0


def test_eta_is_unknown_before_the_first_epoch() -> None:
    assert viz.eta_seconds(run_events()[:1], 10) is None


def long_run(epochs: int) -> list[Event]:
    """A two-task run of many epochs whose losses are a function of the epoch, so a drawn point can be checked."""
    return [epoch(n, {"a": 1.0 / n, "b": 2.0 / n}, {"a": 3.0 / n}) for n in range(1, epochs + 1)]


def test_a_long_run_is_drawn_at_most_max_points_per_curve_with_its_first_and_last_epoch() -> None:
    drawn = traces(viz.loss_curves(long_run(5000)))
    assert list(drawn) == ["a (train)", "a (val)", "b (train)"]
    for name, scale in (("a (train)", 1.0), ("a (val)", 3.0), ("b (train)", 2.0)):
        x, y = drawn[name]
        assert len(x) <= viz.training.MAX_POINTS and x[0] == 1 and x[-1] == 5000
        assert x == sorted(set(x)) and y == pytest.approx([scale / n for n in x])


def test_a_long_smoothed_curve_is_smoothed_over_every_epoch_before_it_is_thinned() -> None:
    events = long_run(2000)
    x, y = traces(viz.loss_curves(events, smoothing=0.9))["a (train)"]
    full = viz.smooth([1.0 / n for n in range(1, 2001)], 0.9)
    assert len(x) <= viz.training.MAX_POINTS and y == pytest.approx([full[int(n) - 1] for n in x])


def test_epoch_rows_kept_while_a_run_grows_equal_the_rows_of_all_its_events() -> None:
    events = [RunStarted(("a", "b"), 3, 10, 2, 3, 100, "cpu", "equal"), *long_run(50)]
    live = viz.EpochRows()
    for end in (1, 2, 20, 20, 51):
        assert live.update(events[:end]) == viz.epoch_rows(events[:end])
    assert live.update(events[:3]) == viz.epoch_rows(events[:3]), "a shorter buffer is another run: start over"
    rows = live.update(events)
    assert viz.epoch_rows(rows) is rows, "rows already converted are not converted again"
    assert traces(viz.loss_curves(rows)) == traces(viz.loss_curves(events))


def test_eta_uses_the_time_per_epoch_so_far_including_the_time_between_epochs() -> None:
    assert viz.eta_seconds(long_run(4), 10) == pytest.approx(6 * 0.1)


def overfitting_run(last: int = 100, lowest_at: int = 20) -> list[dict[str, Any]]:
    """The default diabetes run's shape: validation loss lowest at epoch 20, then rising to the last epoch."""
    return [{"epoch": n, "train_loss": {"progression": 3000.0 - 10 * n, "high": 0.5},
             "val_loss": {"progression": 3000.0 + 8 * abs(n - lowest_at), "high": 0.5}} for n in range(1, last + 1)]


def test_a_validation_loss_risen_for_many_epochs_is_called_overfitting() -> None:
    note = overfitting_note(overfitting_run())
    assert note is not None and note.startswith("Overfitting")
    assert "progression was lowest at epoch 20" in note and "epoch 100" in note and "high" not in note
    assert "keep the best epoch by val_loss" in note and "about 20 epochs" in note


def test_the_note_names_the_kept_epoch_when_one_was_kept() -> None:
    note = overfitting_note(overfitting_run(), best_epoch=21)
    assert note is not None and "those of epoch 21" in note and "keep the best epoch by" not in note


@pytest.mark.parametrize("rows", [
    overfitting_run(last=25),  # lowest 5 epochs before the last: too recent to tell
    [{"epoch": n, "val_loss": {"a": 1.0 / n}} for n in range(1, 50)],  # still falling
    [{"epoch": n, "val_loss": {"a": 1.0 + (0.01 if n == 49 else 0.0) - (0.001 if n == 2 else 0.0)}}
     for n in range(1, 50)],  # flat, with 1 % of noise
    [{"epoch": n, "train_loss": {"a": 1.0}, "val_loss": {}} for n in range(1, 50)],  # no validation rows
    [],
], ids=["recent", "falling", "noise", "no-validation", "empty"])
def test_no_note_without_a_clear_and_lasting_rise(rows: list[dict[str, Any]]) -> None:
    assert overfitting_note(rows) is None
