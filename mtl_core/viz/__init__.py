"""Figure builders: plotly figures and tables from events and results. Pure functions of plain values.

They take what the engine hands out (events, the results dict's ``history``, ``metrics`` and
``predictions``, a comparison's summary) and return a ``plotly.graph_objects.Figure`` or a
``pandas.DataFrame``; the pages only display them, and tests read them as data.
"""

from mtl_core.viz.training import epoch_rows, loss_curves, metrics_table, pred_vs_true

__all__ = ["epoch_rows", "loss_curves", "metrics_table", "pred_vs_true"]
