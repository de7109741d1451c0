"""A stored run, or a comparison or sweep with all its runs, logged to an MLflow tracking server.

Each run becomes an MLflow run with
  - params: the resolved config, flattened to dotted keys (``train.lr``, ``tasks.0.kind``; lists as JSON);
  - per-epoch metrics with ``step = epoch``: ``train_loss.<task>``, ``val_loss.<task>``, ``weight.<task>``,
    ``val.<task>.<metric>``, ``extra.<name>``, ``duration_s`` (the csv export's history columns);
  - final metrics: ``final.<split>.<task>.<metric>`` (the evaluated model's), ``epochs_run``, ``duration_s``;
  - tags: ``mtl.run_id``, ``mtl.status``, ``mtl.reason``, ``mtl.label``, ``mtl.source``;
  - artefacts: ``config.json``, ``results.json`` and the run's stored files (weights, train.log) where present.
A group (a comparison or sweep id) becomes a parent run holding the group's summary, its runs nested under it.

The tracking URI is ``--tracking-uri``, else ``$MLFLOW_TRACKING_URI``, else MLflow's own default,
``sqlite:///mlflow.db`` in the current folder (MLflow 3 refuses a plain ``./mlruns`` folder store unless
``MLFLOW_ALLOW_FILE_STORE=true``); a local store keeps artefacts in ``./mlruns``. MLflow is imported here only.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mtl_core.errors import MTLError
from mtl_core.store.export import finite, history_rows, run_document
from mtl_core.store.records import StoredGroup, StoredRun

DEFAULT_URI = "sqlite:///mlflow.db"
DEFAULT_EXPERIMENT = "mtl-lab"
MAX_PARAM_CHARS = 6000  # MLflow's limit on a param's value
BATCH = 1000  # metrics per log_batch call (MLflow's limit)
STATUS = {"completed": "FINISHED", "failed": "FAILED", "diverged": "FAILED", "stopped": "KILLED",
          "interrupted": "KILLED"}
_UNSAFE = re.compile(r"[^\w\-. /]")  # MLflow keys: letters, digits, _ - . space /


class ExportError(MTLError, RuntimeError):
    """MLflow is missing, or the tracking server refused what was sent."""


@dataclass(frozen=True, slots=True)
class MlflowExport:
    """Where the export went: the tracking URI, the experiment, the parent run (groups) and every run's id."""

    tracking_uri: str
    experiment_id: str
    parent_run_id: str | None
    run_ids: dict[str, str]  # store run id -> MLflow run id


def client(tracking_uri: str | None) -> tuple[Any, str]:
    """An MlflowClient for the URI (see the module docstring for the default) and the URI it uses."""
    try:
        from mlflow.tracking import MlflowClient
    except ImportError:
        raise ExportError('mlflow is not installed; pip install "mlflow-skinny>=3" sqlalchemy alembic '
                          "(or pip install -r requirements-scale.txt)") from None
    uri = tracking_uri or os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_URI
    return MlflowClient(tracking_uri=uri), uri


def export_to_mlflow(store: Any, item_id: str, tracking_uri: str | None = None,
                     experiment: str | None = None) -> MlflowExport:
    """Log run ``item_id`` (or every run of group ``item_id``, nested under a parent run) to MLflow."""
    run = store.get(item_id)
    group = None if run is not None else store.get_group(item_id)
    if run is None and group is None:
        store.require(item_id)  # UnknownRunError naming the id
    mlflow, uri = client(tracking_uri)
    try:
        experiment_id = _experiment(mlflow, experiment or DEFAULT_EXPERIMENT)
        if run is not None:
            return MlflowExport(uri, experiment_id, None, {run.id: log_run(mlflow, experiment_id, run)})
        assert group is not None
        parent = _log_group(mlflow, experiment_id, group)
        ids = {summary.id: log_run(mlflow, experiment_id, store.require(summary.id), parent) for summary in group.runs}
        mlflow.set_terminated(parent, status=STATUS.get(group.summary.status, "FINISHED"))
        return MlflowExport(uri, experiment_id, parent, ids)
    except MTLError:
        raise
    except Exception as error:  # the tracking server's refusal (MlflowException, a connection error)
        raise ExportError(f"MLflow at {uri!r} refused the export: {type(error).__name__}: "
                          f"{' '.join(str(error).split())[:300]}") from None


def _experiment(mlflow: Any, name: str) -> str:
    found = mlflow.get_experiment_by_name(name)
    return str(found.experiment_id) if found is not None else str(mlflow.create_experiment(name))


def _log_group(mlflow: Any, experiment_id: str, group: StoredGroup) -> str:
    """The group's parent run: its kind and status as tags, its summary and config as artefacts."""
    summary = group.summary
    tags = {"mlflow.runName": f"{summary.kind} {summary.id}", "mtl.group_id": summary.id, "mtl.kind": summary.kind,
            "mtl.status": summary.status, "mtl.runs": str(len(group.runs))}
    parent = mlflow.create_run(experiment_id, start_time=int(summary.created * 1000), tags=tags).info.run_id
    _log_params(mlflow, parent, group.config)
    _log_files(mlflow, parent, {"config.json": group.config, "summary.json": group.result or {}}, {})
    return str(parent)


def log_run(mlflow: Any, experiment_id: str, run: StoredRun, parent: str | None = None) -> str:
    """One stored run as an MLflow run (see the module docstring); returns its MLflow id."""
    from mlflow.entities import Metric

    summary = run.summary
    tags = {"mlflow.runName": summary.label or summary.id, "mtl.run_id": summary.id, "mtl.status": summary.status,
            "mtl.reason": summary.reason[:5000], "mtl.label": summary.label or "", "mtl.source": summary.source}
    if parent is not None:
        tags["mlflow.parentRunId"] = parent
    run_id = str(mlflow.create_run(experiment_id, start_time=int(summary.created * 1000), tags=tags).info.run_id)
    _log_params(mlflow, run_id, run.config)
    stamp = int((summary.finished or summary.created) * 1000)
    metrics = [Metric(key, value, stamp, step) for step, key, value in epoch_metrics(run.history)]
    metrics += [Metric(key, value, stamp, 0) for key, value in final_metrics(run).items()]
    for start in range(0, len(metrics), BATCH):
        mlflow.log_batch(run_id, metrics=metrics[start:start + BATCH])
    documents = {"config.json": run.config, "results.json": run.results_dict or run_document(run)}
    _log_files(mlflow, run_id, documents, run.artefacts)
    if summary.status in STATUS:
        mlflow.set_terminated(run_id, status=STATUS[summary.status],
                              end_time=int(summary.finished * 1000) if summary.finished else None)
    return run_id


def flat_params(config: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """A config as dotted keys and text values; lists of tables by index, other lists as JSON.

    >>> flat_params({"train": {"lr": 0.01, "select": None}, "model": {"hidden": [8, 8]}, "tasks": [{"name": "y"}]})
    {'train.lr': '0.01', 'train.select': 'None', 'model.hidden': '[8, 8]', 'tasks.0.name': 'y'}
    """
    flat: dict[str, str] = {}
    for key, value in config.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            flat.update(flat_params(value, dotted + "."))
        elif isinstance(value, list) and value and all(isinstance(item, Mapping) for item in value):
            for index, item in enumerate(value):
                flat.update(flat_params(item, f"{dotted}.{index}."))
        else:
            text = json.dumps(value) if isinstance(value, list | dict) else str(value)
            flat[_key(dotted)] = text[:MAX_PARAM_CHARS]
    return flat


def epoch_metrics(history: list[dict[str, Any]]) -> list[tuple[int, str, float]]:
    """(epoch, key, value) for every finite number of every epoch (the csv export's history columns)."""
    found = []
    for row in history_rows(history):
        epoch = int(row.pop("epoch"))
        row.pop("elapsed_s", None)
        found += [(epoch, _key(key), float(value)) for key, value in row.items() if _number(value)]
    return found


def final_metrics(run: StoredRun) -> dict[str, float]:
    """``final.<split>.<task>.<metric>`` of the evaluated model, ``epochs_run``, ``duration_s``, ``best_value``."""
    values: dict[str, Any] = {f"final.{split}.{task}.{metric}": value for split, tasks in run.metrics.items()
                              for task, numbers in tasks.items() for metric, value in numbers.items()}
    values.update(epochs_run=run.summary.epochs_run, duration_s=run.summary.duration_s, best_value=run.best_value)
    return {_key(key): float(value) for key, value in values.items() if _number(value)}


def _log_params(mlflow: Any, run_id: str, config: Mapping[str, Any]) -> None:
    from mlflow.entities import Param

    params = [Param(key, value) for key, value in flat_params(config).items()]
    for start in range(0, len(params), 100):  # MLflow takes at most 100 params a call
        mlflow.log_batch(run_id, params=params[start:start + 100])


def _log_files(mlflow: Any, run_id: str, documents: Mapping[str, Any], files: Mapping[str, str]) -> None:
    """JSON documents written to a temporary folder, and the run's stored files, as the run's artefacts."""
    with tempfile.TemporaryDirectory(prefix="mtl-mlflow-") as folder:
        for name, content in documents.items():
            (Path(folder) / name).write_text(json.dumps(finite(content), indent=1) + "\n", encoding="utf-8")
            mlflow.log_artifact(run_id, str(Path(folder) / name))
    for name, path in files.items():
        if Path(path).is_file() and name not in documents:
            parent = str(Path(name).parent)
            mlflow.log_artifact(run_id, path, artifact_path=None if parent == "." else parent)


def _key(name: str) -> str:
    return _UNSAFE.sub("_", name)[:250]


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
