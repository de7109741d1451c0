"""Where ``run`` writes: --out and --run-dir checked before anything trains, a non-empty --run-dir kept unless
--overwrite, non-finite numbers written as null with the reason saying so."""

from __future__ import annotations

import json
import math
import os
import stat
from pathlib import Path

import pytest

from mtl_core.cli import main
from mtl_core.results import RunResults
from mtl_core.runs import write_results

ROOT = Path(__file__).resolve().parents[3]
DIABETES_TOML = ROOT / "examples" / "diabetes.toml"
FAST = ["--no-store", "--quiet", "--set", "train.epochs=1", "model.hidden=[4]", "train.device=cpu"]


@pytest.fixture
def no_training(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to build the experiment fails the test: the checks must come first."""
    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("the run started training before its outputs were checked")
    monkeypatch.setattr("mtl_core.experiment.Experiment.__init__", refuse)


def one_line_error(code: int, capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    return err


@pytest.mark.usefixtures("no_training")
def test_an_out_that_cannot_be_written_exits_2_before_training(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x", encoding="utf-8")
    code = main(["run", str(DIABETES_TOML), "--out", str(blocker / "r.json"), *FAST])
    assert "--out" in one_line_error(code, capsys)


@pytest.mark.usefixtures("no_training")
def test_an_out_that_is_a_folder_exits_2_before_training(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert "is a folder" in one_line_error(main(["run", str(DIABETES_TOML), "--out", str(tmp_path), *FAST]), capsys)


@pytest.mark.usefixtures("no_training")
def test_an_out_that_is_a_pipe_or_device_is_refused_not_replaced(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    assert "not a file" in one_line_error(main(["run", str(DIABETES_TOML), "--out", str(pipe), *FAST]), capsys)
    assert stat.S_ISFIFO(pipe.stat().st_mode)


def test_an_out_that_is_a_link_writes_its_target_and_keeps_the_link(tmp_path: Path) -> None:
    (tmp_path / "target.json").write_text("{}", encoding="utf-8")
    (tmp_path / "link.json").symlink_to(tmp_path / "target.json")
    write_results(tmp_path / "link.json", {"status": "completed", "reason": "", "value": 1.5})
    assert (tmp_path / "link.json").is_symlink()
    assert json.loads((tmp_path / "target.json").read_text(encoding="utf-8"))["value"] == 1.5


@pytest.mark.parametrize("argv", [["list", "colours"], ["train"], [], ["run"],
                                  ["compare", "x.toml", "--seeds", "x" * 999]])
def test_an_argument_error_is_one_line(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(argv)
    err = capsys.readouterr().err
    assert caught.value.code == 2 and len(err.strip().splitlines()) == 1 and "--help" in err


@pytest.mark.usefixtures("no_training")
def test_a_run_dir_that_cannot_be_written_exits_2_before_training(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x", encoding="utf-8")
    code = main(["run", str(DIABETES_TOML), "--run-dir", str(blocker / "sub" / "run"), *FAST])
    assert "--run-dir" in one_line_error(code, capsys)


@pytest.mark.usefixtures("no_training")
def test_a_non_empty_run_dir_is_refused_without_overwrite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "run.json").write_text("{}", encoding="utf-8")
    code = main(["run", str(DIABETES_TOML), "--run-dir", str(tmp_path), *FAST])
    assert "--overwrite" in one_line_error(code, capsys)
    assert [path.name for path in tmp_path.iterdir()] == ["run.json"]


@pytest.mark.usefixtures("no_training")
def test_overwrite_replaces_only_a_run_folder_never_other_files(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "thesis.tex").write_text("years of work", encoding="utf-8")
    code = main(["run", str(DIABETES_TOML), "--run-dir", str(tmp_path), "--overwrite", *FAST])
    assert "not a run's" in one_line_error(code, capsys)
    assert (tmp_path / "thesis.tex").read_text(encoding="utf-8") == "years of work"


def test_overwrite_replaces_the_run_in_a_run_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "run"
    assert main(["run", str(DIABETES_TOML), "--run-dir", str(folder), *FAST]) == 0
    assert main(["run", str(DIABETES_TOML), "--run-dir", str(folder), "--overwrite", *FAST,
                 "--set", "train.seed=1"]) == 0
    results = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    assert results["config"]["train"]["seed"] == 1 and (folder / "manifest.json").is_file()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["run"]  # no partial or old folder left


def test_non_finite_numbers_are_written_as_null_and_the_reason_says_so(tmp_path: Path) -> None:
    results = RunResults({}, "diverged", "loss of task 'a' became inf at epoch 2", 2, 0.5,
                         {"val": {"a": {"mse": math.inf}}, "test": {}},
                         [{"epoch": 1, "train_loss": {"a": 1.0}}, {"epoch": 2, "train_loss": {"a": math.nan}}])
    write_results(tmp_path / "r.json", results)
    written = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert written["metrics"]["val"]["a"]["mse"] is None and written["history"][1]["train_loss"]["a"] is None
    assert written["status"] == "diverged" and written["reason"].startswith("loss of task 'a' became inf")
    assert "2 non-finite numbers (nan or inf) written as null" in written["reason"]


def test_a_run_with_an_infinite_learning_rate_writes_results_or_is_refused_in_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r.json"
    code = main(["run", str(DIABETES_TOML), "--out", str(out), *FAST, "--set", "train.lr=inf"])
    if code == 2:  # a learning rate past the settings' range is a user error
        assert "train.lr" in one_line_error(code, capsys)
        return
    results = json.loads(out.read_text(encoding="utf-8"))
    assert code == 1 and results["status"] == "diverged" and results["reason"]


def test_a_diverged_run_folder_is_whole_and_predict_refuses_it_in_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "run"
    code = main(["run", str(DIABETES_TOML), "--run-dir", str(folder), *FAST, "--set", "train.optimizer=sgd",
                 "train.lr=1e6", "train.epochs=20"])
    results = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    assert code == 1 and results["status"] == "diverged" and not (folder / "checkpoints" / "best.pt").exists()
    capsys.readouterr()
    assert "diverged" in one_line_error(main(["predict", str(folder), str(DIABETES_TOML)]), capsys)


def test_an_export_that_cannot_be_written_exits_2_with_one_line(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    from mtl_core.config import ExperimentConfig
    from mtl_core.store import RunStore

    store = RunStore(tmp_path / "runs.sqlite")
    run_id = store.start_run(ExperimentConfig.from_dict({"data": {"dataset": "diabetes"}}))
    store.close()
    blocker = tmp_path / "a-file"
    blocker.write_text("x", encoding="utf-8")
    for fmt in ("json", "csv"):
        code = main(["runs", "export", run_id, "--db", str(tmp_path / "runs.sqlite"), "--format", fmt,
                     "--out", str(blocker / "sub" / "r")])
        assert "a-file" in one_line_error(code, capsys)


@pytest.mark.parametrize("command", ["compare", "pareto"])
def test_a_comparison_out_that_cannot_be_written_exits_2_before_any_run(
        command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("the comparison started before its output was checked")
    monkeypatch.setattr(f"mtl_core.compare.{command}", refuse)
    blocker = tmp_path / "a-file"
    blocker.write_text("x", encoding="utf-8")
    code = main([command, str(DIABETES_TOML), "--no-store", "--quiet", "--out", str(blocker / "c.json")])
    assert "--out" in one_line_error(code, capsys)


@pytest.mark.parametrize("argv", [["run", str(DIABETES_TOML), "--out", "a" * 300 + ".json", *FAST],
                                  ["run", str(DIABETES_TOML), "--run-dir", "a" * 300, *FAST],
                                  ["run", "a" * 300 + ".toml", *FAST],
                                  ["predict", "a" * 300, str(DIABETES_TOML)]],
                         ids=["out", "run-dir", "config", "predict"])
def test_a_path_the_system_refuses_is_one_line(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert "a" * 201 not in one_line_error(main(argv), capsys)
