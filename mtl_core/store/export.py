"""A stored run written out for use elsewhere: one JSON file, or a folder of CSV tables.

``json``: one file ``{"id", "status", "reason", "config", "history", "metrics", "predictions", "best_epoch",
"best_value", "versions", "dataset_fingerprint"}``.

``csv``: a folder (created; OUT names it) holding
  - ``config.json``: the resolved config, loadable by ``python -m mtl_core run``;
  - ``history.csv``: one row per epoch: epoch, duration_s, elapsed_s, then ``train_loss.<task>``,
    ``val_loss.<task>``, ``weight.<task>``, ``val.<task>.<metric>`` and ``extra.<name>`` columns;
  - ``metrics.csv``: split, task, metric, value (the final evaluation);
  - ``predictions.csv``: task, row, true, predicted, and ``p(<class>)`` columns for classification tasks.

A text cell that a spreadsheet would run as a formula (``=...``, ``@...``) is written with a leading ``'``
(``mtl_core.csv_safety``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from mtl_core.csv_safety import write_rows
from mtl_core.errors import ConfigError
from mtl_core.store.records import StoredRun

FORMATS = ("json", "csv")


def export_run(run: StoredRun, fmt: str, out: Path) -> Path:
    """Write ``run`` as ``fmt`` to ``out``; returns the path written (a file for json, a folder for csv)."""
    if fmt not in FORMATS:
        raise ConfigError(f"export format {fmt!r}: use json or csv")
    if fmt == "json":
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(finite(run_document(run)), indent=1, allow_nan=False) + "\n", encoding="utf-8")
        return out
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps(run.config, indent=1) + "\n", encoding="utf-8")
    write_rows(out / "history.csv", history_rows(run.history))  # every CSV neutralised: see mtl_core.csv_safety
    write_rows(out / "metrics.csv", metric_rows(run.metrics), ["split", "task", "metric", "value"])
    write_rows(out / "predictions.csv", prediction_rows(run.predictions), ["task", "row", "true", "predicted"])
    return out


def run_document(run: StoredRun) -> dict[str, Any]:
    """The json export's content."""
    return {"id": run.id, "status": run.status, "reason": run.summary.reason, "config": run.config,
            "history": run.history, "metrics": run.metrics, "predictions": run.predictions,
            "best_epoch": run.best_epoch, "best_value": run.best_value, "versions": run.versions,
            "dataset_fingerprint": run.dataset_fingerprint}


def finite(value: Any) -> Any:
    """The value with NaN and infinities (a diverged run's last losses) replaced by None: strict JSON.

    >>> finite({"a": [1.0, float("nan")], "b": float("inf")})
    {'a': [1.0, None], 'b': None}
    """
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [finite(item) for item in value]
    return value


def history_rows(history: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One flat row per epoch (see the module docstring for the columns).

    >>> history_rows([{"epoch": 1, "train_loss": {"a": 0.5}, "val_loss": {}, "weights": {"a": 1.0},
    ...                "metrics": {"a": {"mse": 0.25}}, "duration_s": 0.1, "elapsed_s": 0.1, "extras": {}}])
    [{'epoch': 1, 'duration_s': 0.1, 'elapsed_s': 0.1, 'train_loss.a': 0.5, 'weight.a': 1.0, 'val.a.mse': 0.25}]
    """
    rows = []
    for entry in history:
        row: dict[str, Any] = {key: entry.get(key) for key in ("epoch", "duration_s", "elapsed_s")}
        for prefix, key in (("train_loss", "train_loss"), ("val_loss", "val_loss"), ("weight", "weights"),
                            ("extra", "extras")):
            row.update({f"{prefix}.{name}": value for name, value in entry.get(key, {}).items()})
        row.update({f"val.{task}.{metric}": value for task, values in entry.get("metrics", {}).items()
                    for metric, value in values.items()})
        rows.append(row)
    return rows


def metric_rows(metrics: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> list[dict[str, Any]]:
    """split, task, metric, value: one row per final metric."""
    return [{"split": split, "task": task, "metric": metric, "value": value}
            for split, tasks in metrics.items() for task, values in tasks.items() for metric, value in values.items()]


def prediction_rows(predictions: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """task, row, true, predicted and the class probabilities, one row per test row and task."""
    rows = []
    for task, entry in predictions.items():
        classes = entry.get("classes") or []
        shown = classes if len(classes) > 2 else classes[-1:]
        for index, (row, true, pred) in enumerate(zip(entry["row"], entry["true"], entry["pred"], strict=True)):
            line: dict[str, Any] = {"task": task, "row": row, "true": true, "predicted": pred}
            proba = entry.get("proba")
            if proba is not None and shown:
                values = proba[index] if isinstance(proba[index], list) else [proba[index]]
                line.update({f"p({name})": value for name, value in zip(shown, values, strict=False)})
            rows.append(line)
    return rows
