"""A run's config, history, metrics and predictions read back equal to what the trainer yielded."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import pytest

from mtl_core.store import RunStore, StoredRun

from tests.unit.store.conftest import diabetes, train_into
from tests.unit.store.writers import synthetic_results


def as_json(value: object) -> object:
    """The value as RESULTS.json holds it (tuples become lists)."""
    return json.loads(json.dumps(value))


def test_a_trained_runs_config_history_and_metrics_read_back_equal(store: RunStore) -> None:
    run_id, results = train_into(store, diabetes(epochs=4, select="val_loss"))
    run = store.get(run_id)
    assert isinstance(run, StoredRun) and run.status == "completed"
    assert run.config == results.config
    assert run.history == results.history and len(run.history) == 4
    assert run.metrics == results.metrics and run.predictions == results.predictions
    assert (run.best_epoch, run.best_value) == (results.best_epoch, results.best_value)
    assert run.results_dict == as_json(results.to_dict())
    rebuilt = run.results()
    assert rebuilt is not None and rebuilt.history == results.history and rebuilt.metrics == results.metrics


def test_the_summary_names_the_run_and_its_test_metrics(store: RunStore) -> None:
    run_id, results = train_into(store, diabetes(epochs=2), owner="session-a", source="dashboard")
    summary = store.list_runs()[0]
    assert (summary.id, summary.status, summary.dataset, summary.strategy, summary.architecture) == \
        (run_id, "completed", "diabetes", "equal", "hps")
    assert summary.tasks == ("progression", "high_progression") and summary.epochs_run == 2
    assert (summary.owner, summary.source, summary.device) == ("session-a", "dashboard", "cpu")
    assert summary.metrics == results.metrics["test"]
    assert summary.key_metric == ("progression", "mse", results.metrics["test"]["progression"]["mse"])
    assert summary.finished is not None and summary.finished >= summary.created


def test_the_history_is_readable_while_the_run_trains(store: RunStore) -> None:
    results = synthetic_results(7, epochs=3)
    run_id = store.start_run(results.config)
    record = store.recorder(run_id)
    record(type("E", (), {"to_dict": lambda self: {"type": "epoch_ended", **results.history[0]}})())
    assert store.history(run_id) == results.history[:1]
    assert store.get(run_id).status == "running" and store.get(run_id).results() is None  # type: ignore[union-attr]


def test_a_run_stored_after_the_fact_keeps_its_whole_history(store: RunStore) -> None:
    results = synthetic_results(3, epochs=5)
    run = store.get(store.store_results(results, label="stl"))
    assert run is not None and run.history == results.history and run.summary.label == "stl"
    assert run.metrics == results.metrics and run.summary.epochs_run == 5


def test_a_failed_run_keeps_its_epochs_and_says_why(store: RunStore) -> None:
    results = synthetic_results(1, epochs=2)
    run_id = store.start_run(results.config)
    store.finish(run_id, results)
    store.fail(run_id, "ValueError: boom")
    summary = store.summary(run_id)
    assert summary is not None and (summary.status, summary.reason, summary.epochs_run) == \
        ("failed", "ValueError: boom", 2)


def test_delete_removes_rows_and_the_run_folder(store: RunStore) -> None:
    run_id = store.store_results(synthetic_results(1))
    store.run_dir(run_id).mkdir(parents=True)
    (store.run_dir(run_id) / "train.log").write_text("x", encoding="utf-8")
    assert store.add_artefacts(run_id) == {"train.log": str(store.run_dir(run_id) / "train.log")}
    assert store.delete(run_id) and store.get(run_id) is None and not store.run_dir(run_id).exists()
    assert store.history(run_id) == [] and not store.delete(run_id)


def test_run_ids_are_unguessable_and_never_read_as_options(store: RunStore) -> None:
    ids = {store.start_run(synthetic_results(0).config) for _ in range(50)}
    assert len(ids) == 50 and all(len(run_id) == 16 and run_id[0].isalnum() for run_id in ids)


def test_a_diverged_runs_nan_losses_are_kept_and_exported_as_strict_json(store: RunStore, tmp_path: Path) -> None:
    results = synthetic_results(2, epochs=2)
    results.history[-1]["train_loss"]["progression"] = float("nan")
    run_id = store.store_results(replace(results, status="diverged", reason="loss became nan"))
    stored = store.require(run_id)
    assert math.isnan(stored.history[-1]["train_loss"]["progression"]) and stored.status == "diverged"
    out = store.export(run_id, "json", tmp_path / "run.json")
    exported = json.loads(out.read_text(encoding="utf-8"), parse_constant=lambda name: pytest.fail(name))
    assert exported["history"][-1]["train_loss"]["progression"] is None and exported["status"] == "diverged"
