"""MLflow export into a temporary tracking store: params, per-epoch metric series and artefacts read back through
MlflowClient equal the run store's; a group's runs are nested under one parent run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mtl_core.config import ExperimentConfig
from mtl_core.experiment import Experiment, run_to_results
from mtl_core.runs_cli import train_stored
from mtl_core.store import RunStore
from mtl_core.store.export import finite
from mtl_core.store.mlflow_export import export_to_mlflow, flat_params

mlflow = pytest.importorskip("mlflow", reason="mlflow is not installed (pip install -r requirements-scale.txt)")
pytest.importorskip("sqlalchemy", reason="the sqlite tracking store needs sqlalchemy (requirements-scale.txt)")


def tiny(seed: int = 0) -> ExperimentConfig:
    return ExperimentConfig.from_dict({"data": {"dataset": "diabetes"}, "model": {"hidden": [4]},
                                       "train": {"epochs": 3, "seed": seed}})


def test_a_run_and_a_group_read_back_from_mlflow_equal_the_run_store(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # a local tracking store keeps its artefacts in ./mlruns
    store = RunStore(tmp_path / "runs.sqlite")
    run_id, _ = train_stored(Experiment(tiny()), store, "cli", quiet=True)  # with weights in its folder
    group_id = store.start_group("sweep", tiny())
    for seed in (1, 2):
        store.store_results(run_to_results(tiny(seed)), group_id=group_id, source="sweep", label=f"seed={seed}")
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"

    single = export_to_mlflow(store, run_id, uri, "tests")
    client = mlflow.tracking.MlflowClient(tracking_uri=uri)
    run, logged = store.require(run_id), client.get_run(single.run_ids[run_id])
    assert logged.data.params == flat_params(run.config) and logged.data.tags["mtl.status"] == "completed"
    series = client.get_metric_history(logged.info.run_id, "train_loss.progression")
    assert [(point.step, point.value) for point in series] == [
        (entry["epoch"], entry["train_loss"]["progression"]) for entry in run.history]
    assert logged.data.metrics["final.test.progression.mse"] == run.metrics["test"]["progression"]["mse"]
    names = {item.path for item in client.list_artifacts(logged.info.run_id)}
    assert {"config.json", "results.json", "checkpoints"} <= names
    folder = Path(client.download_artifacts(logged.info.run_id, "results.json", str(tmp_path)))
    assert json.loads(folder.read_text(encoding="utf-8")) == json.loads(json.dumps(finite(run.results_dict)))

    nested = export_to_mlflow(store, group_id, uri, "tests")
    children = client.search_runs([nested.experiment_id], f"tags.mlflow.parentRunId = '{nested.parent_run_id}'")
    assert sorted(child.data.tags["mtl.label"] for child in children) == ["seed=1", "seed=2"]
    assert client.get_run(str(nested.parent_run_id)).data.tags["mtl.kind"] == "sweep"
