"""Figure builders: plotly figures and tables from events and results. Pure functions of plain values.

They take what the engine hands out (events, the results dict's ``history``, ``metrics`` and
``predictions``, a comparison's summary) and return a ``plotly.graph_objects.Figure`` or a
``pandas.DataFrame``; the pages only display them, and tests read them as data.
"""

from mtl_core.viz.compare import best_methods, compare_bars, compare_table, pareto_plot
from mtl_core.viz.data import distributions, target_scatter
from mtl_core.viz.results import classification_tasks, confusion_matrix_figure, regression_tasks, roc_figure
from mtl_core.viz.runs import (
    config_diff, flatten_config, hyperparameter_plot, metric_comparison, overlay_curves, run_labels, varying_settings,
)
from mtl_core.viz.training import (
    EpochRows, epoch_rows, eta_seconds, loss_curves, metric_curves, metrics_table, pred_vs_true, smooth, weight_curves,
)

__all__ = [
    "best_methods", "compare_bars", "compare_table", "pareto_plot", "distributions", "target_scatter",
    "classification_tasks", "confusion_matrix_figure", "regression_tasks", "roc_figure",
    "config_diff", "flatten_config", "hyperparameter_plot", "metric_comparison", "overlay_curves", "run_labels",
    "varying_settings",
    "EpochRows", "epoch_rows", "eta_seconds", "loss_curves", "metric_curves", "metrics_table", "pred_vs_true", "smooth",
    "weight_curves",
]
