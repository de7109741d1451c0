"""``python -m mtl_core runs list|show|export|delete|rerun`` and the run ids that run, compare and pareto print."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from mtl_core.cli import main
from mtl_core.store import RunStore

from tests.unit.store.conftest import DIABETES_TOML
from tests.unit.store.writers import synthetic_results


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def trained(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, str]:
    """A three-epoch diabetes run stored by the CLI: the database and the printed run id."""
    db = tmp_path / "runs.sqlite"
    code, out, _ = cli(capsys, "run", str(DIABETES_TOML), "--db", str(db), "--set", "train.epochs=3",
                       "--out", str(tmp_path / "r.json"))
    match = re.search(r"^run: (\S+) ", out, re.MULTILINE)
    assert code == 0 and match is not None, out
    return db, match.group(1)


def test_run_stores_the_run_with_its_folder_and_prints_its_id(trained: tuple[Path, str], tmp_path: Path) -> None:
    db, run_id = trained
    run = RunStore(db).require(run_id)
    written = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert run.status == "completed" and run.history == written["history"] and run.metrics == written["metrics"]
    assert {"checkpoints/best.pt", "train.log", "config.toml", "run.json", "results.json"} <= set(run.artefacts)
    assert run.dataset_fingerprint is not None and len(run.dataset_fingerprint) == 64
    assert (RunStore(db).run_dir(run_id) / "checkpoints" / "best.pt").is_file()


def test_no_store_stores_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "runs.sqlite"
    code, out, _ = cli(capsys, "run", str(DIABETES_TOML), "--db", str(db), "--no-store", "--set", "train.epochs=1",
                       "--out", str(tmp_path / "r.json"))
    assert code == 0 and "run: " not in out and not db.exists()


def test_the_default_store_is_under_mtl_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("MTL_HOME", str(tmp_path / "home"))
    code, out, _ = cli(capsys, "run", str(DIABETES_TOML), "--set", "train.epochs=1", "--out", str(tmp_path / "r.json"))
    assert code == 0 and RunStore(tmp_path / "home" / "runs.sqlite").count_runs() == 1


def test_runs_list_shows_a_table_newest_first(trained: tuple[Path, str], capsys: pytest.CaptureFixture[str]) -> None:
    db, run_id = trained
    older = RunStore(db).start_run(synthetic_results(1).config, created=1.0)
    code, out, _ = cli(capsys, "runs", "list", "--db", str(db))
    lines = out.splitlines()
    assert code == 0 and lines[0].split()[:3] == ["id", "created", "(UTC)"]
    assert lines[1].startswith(run_id) and " completed " in lines[1] and "progression mse " in lines[1]
    assert lines[2].startswith(older) and " running " in lines[2] and "1970-01-01 00:00" in lines[2]
    assert lines[-1].startswith("rows 1-2 of 2 runs in ")


def test_runs_list_pages_and_filters(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "runs.sqlite"
    store = RunStore(db)
    ids = [store.start_run(synthetic_results(index).config, created=float(index)) for index in range(5)]
    code, out, _ = cli(capsys, "runs", "list", "--db", str(db), "--limit", "2", "--offset", "2")
    rows = [line.split()[0] for line in out.splitlines()[1:-1]]
    assert code == 0 and rows == [ids[2], ids[1]]
    assert out.splitlines()[-1].endswith("--offset 4 for the next page")
    store.fail(ids[0], "boom")
    code, out, _ = cli(capsys, "runs", "list", "--db", str(db), "--status", "failed")
    assert [line.split()[0] for line in out.splitlines()[1:-1]] == [ids[0]]


def test_runs_show_gives_config_metrics_and_epochs(trained: tuple[Path, str],
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    db, run_id = trained
    code, out, _ = cli(capsys, "runs", "show", run_id, "--db", str(db))
    assert code == 0 and out.startswith(f"run {run_id}: completed\n")
    assert "model: hps hidden [32]; strategy: equal" in out and "epochs: 3 stored;" in out
    assert re.search(r"^test progression: mse \d", out, re.MULTILINE) and "checkpoints/best.pt" in out


@pytest.mark.parametrize("action", ["show", "export", "delete", "rerun"])
def test_an_unknown_id_exits_2_with_one_line_naming_it(action: str, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "runs", action, "nosuchrun", "--db", str(tmp_path / "runs.sqlite"))
    assert code == 2 and out == "" and len(err.splitlines()) == 1
    assert "'nosuchrun'" in err and "runs list" in err


def test_export_json_holds_config_history_metrics_and_predictions(trained: tuple[Path, str], tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    db, run_id = trained
    out = tmp_path / "export.json"
    assert cli(capsys, "runs", "export", run_id, "--format", "json", "--out", str(out), "--db", str(db))[0] == 0
    exported, written = json.loads(out.read_text(encoding="utf-8")), json.loads((tmp_path / "r.json").read_text())
    for key in ("config", "history", "metrics", "predictions"):
        assert exported[key] == written[key]


def test_export_csv_writes_a_folder_of_tables(trained: tuple[Path, str], tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    db, run_id = trained
    out = tmp_path / "tables"
    assert cli(capsys, "runs", "export", run_id, "--format", "csv", "--out", str(out), "--db", str(db))[0] == 0
    written = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    history = list(csv.DictReader((out / "history.csv").open(encoding="utf-8")))
    assert [float(row["train_loss.progression"]) for row in history] == \
        [entry["train_loss"]["progression"] for entry in written["history"]]
    metrics = list(csv.DictReader((out / "metrics.csv").open(encoding="utf-8")))
    assert {(row["split"], row["task"], row["metric"]) for row in metrics} >= {("test", "progression", "mse")}
    predictions = list(csv.DictReader((out / "predictions.csv").open(encoding="utf-8")))
    assert len(predictions) == 2 * len(written["predictions"]["progression"]["row"])
    assert "p(1)" in predictions[-1] or any(key.startswith("p(") for key in predictions[-1])
    assert json.loads((out / "config.json").read_text(encoding="utf-8")) == written["config"]


def test_delete_removes_the_run(trained: tuple[Path, str], capsys: pytest.CaptureFixture[str]) -> None:
    db, run_id = trained
    code, out, _ = cli(capsys, "runs", "delete", run_id, "--db", str(db))
    assert code == 0 and out == f"run {run_id} deleted\n" and RunStore(db).get(run_id) is None
    assert not RunStore(db).run_dir(run_id).exists()


def test_rerun_of_a_completed_cpu_run_gives_identical_numbers(trained: tuple[Path, str],
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    db, run_id = trained
    code, out, _ = cli(capsys, "runs", "rerun", run_id, "--db", str(db), "--quiet")
    match = re.search(r"^run (\S+): identical to run " + re.escape(run_id), out, re.MULTILINE)
    assert code == 0 and match is not None, out
    store = RunStore(db)
    first, second = store.require(run_id), store.require(match.group(1))
    assert second.summary.source == "rerun" and second.id != first.id
    assert [entry["train_loss"] for entry in second.history] == [entry["train_loss"] for entry in first.history]
    assert [entry["val_loss"] for entry in second.history] == [entry["val_loss"] for entry in first.history]
    assert second.metrics["test"] == first.metrics["test"] and second.predictions == first.predictions
