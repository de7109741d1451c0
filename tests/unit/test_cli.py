"""``python -m mtl_core``: run a config to RESULTS.json, list registries, exit 2 on user errors, 1 on divergence."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from mtl_core.cli import main
from mtl_core.data import DATASETS
from mtl_core.models import ARCHITECTURES
from mtl_core.weighting import STRATEGIES

ROOT = Path(__file__).resolve().parents[2]
WINE_TOML = ROOT / "examples" / "wine_seed.toml"
DIABETES_TOML = ROOT / "examples" / "diabetes.toml"


@pytest.fixture(scope="module")
def wine_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """RESULTS.json of the wine seed example, run once as a user would: a subprocess from the project root."""
    if not (Path(os.environ["MTL_DATA_DIR"]) / "winequality-red.csv").is_file():
        pytest.skip("Wine Quality files not found")
    folder = tmp_path_factory.mktemp("cli")
    out = folder / "r.json"
    env = {**os.environ, "MTL_CACHE_DIR": str(folder / "cache")}
    done = subprocess.run([sys.executable, "-m", "mtl_core", "run", "examples/wine_seed.toml", "--out", str(out)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "status: completed" in done.stdout and f"results: {out}" in done.stdout
    return json.loads(out.read_text(encoding="utf-8"))


def run_cli(*argv: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_the_wine_example_writes_the_documented_results(wine_results: dict[str, Any]) -> None:
    assert wine_results["status"] == "completed" and wine_results["duration_s"] > 0
    assert wine_results["config"]["data"]["dataset"] == "wine-red"
    assert wine_results["metrics"]["val"] == {}  # the seed holds out no validation rows
    quality, good = wine_results["metrics"]["test"]["quality"], wine_results["metrics"]["test"]["good"]
    assert 0.0 < quality["mse"] < 1.0 and 0.5 < good["accuracy"] < 1.0
    history = wine_results["history"]
    assert [entry["epoch"] for entry in history] == list(range(1, 101))
    for entry in history:
        assert set(entry["train_loss"]) == {"quality", "good"} and set(entry["weights"]) == {"quality", "good"}
    for task in ("quality", "good"):
        assert len(wine_results["predictions"][task]["true"]) == len(wine_results["predictions"][task]["pred"]) == 320


def test_running_the_wine_example_again_gives_identical_metrics(wine_results: dict[str, Any], tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    code, _, _ = run_cli("run", str(WINE_TOML), "--out", str(tmp_path / "again.json"), "--quiet", capsys=capsys)
    again = json.loads((tmp_path / "again.json").read_text(encoding="utf-8"))
    assert code == 0 and again["metrics"] == wine_results["metrics"]
    assert again["predictions"] == wine_results["predictions"]


def test_the_yaml_example_gives_the_same_metrics_as_the_toml(wine_results: dict[str, Any], tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    config = ROOT / "examples" / "wine_seed.yaml"
    if not config.is_file():
        config = tmp_path / "wine_seed.yaml"
        config.write_text(yaml.safe_dump(json.loads(json.dumps(wine_results["config"]))), encoding="utf-8")
    code, _, _ = run_cli("run", str(config), "--out", str(tmp_path / "yaml.json"), "--quiet", capsys=capsys)
    assert code == 0
    assert json.loads((tmp_path / "yaml.json").read_text(encoding="utf-8"))["metrics"] == wine_results["metrics"]


@pytest.mark.parametrize(("setting", "words"), [
    ("data.dataset=wine-rde", ["data.dataset = 'wine-rde'", "Did you mean 'wine-red'"]),
    ("data.test_size=1.5", ["data.test_size = 1.5"]),
    ("tasks.0.column=nope", ["tasks.0.column = 'nope'", "Columns: fixed acidity", "quality"]),
])
def test_a_bad_setting_exits_2_with_one_line_naming_it(setting: str, words: list[str], wine_available: Path,
                                                       tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli("run", str(WINE_TOML), "--quiet", "--out", str(tmp_path / "r.json"), "--set", setting,
                             capsys=capsys)
    assert code == 2 and out == "" and not (tmp_path / "r.json").exists()
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert all(word in err for word in words), err


def test_a_strategy_hyper_parameter_error_names_strategy_key(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli("run", str(DIABETES_TOML), "--quiet", "--out", str(tmp_path / "r.json"),
                           "--set", "strategy.name=static", "strategy.weights=[1.0]", capsys=capsys)
    assert code == 2 and "strategy.weights = [1.0] has 1 entries for 2 tasks" in err


def test_an_unreadable_config_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[data\n", encoding="utf-8")
    code, _, err = run_cli("run", str(path), capsys=capsys)
    assert code == 2 and "bad.toml" in err and "cannot be parsed" in err


@pytest.mark.parametrize(("what", "registry"), [("datasets", DATASETS), ("strategies", STRATEGIES),
                                                ("architectures", ARCHITECTURES)])
def test_list_prints_one_registered_name_per_line(what: str, registry: Any, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli("list", what, capsys=capsys)
    assert code == 0 and out.splitlines() == registry.names()


def test_list_names_the_documented_entries(capsys: pytest.CaptureFixture[str]) -> None:
    assert {"diabetes", "wine-red", "wine-white"} <= set(run_cli("list", "datasets", capsys=capsys)[1].split())
    assert {"equal", "static"} <= set(run_cli("list", "strategies", capsys=capsys)[1].split())
    assert "hps" in run_cli("list", "architectures", capsys=capsys)[1].split()


def test_an_unknown_list_or_command_is_an_argument_error(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["list", "colours"], ["train"], []):
        with pytest.raises(SystemExit) as caught:
            main(argv)
        assert caught.value.code == 2
    capsys.readouterr()


def test_a_diverged_run_exits_1_and_still_writes_its_results(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "diverged.json"
    code, stdout, _ = run_cli("run", str(DIABETES_TOML), "--out", str(out), "--set", "train.optimizer=sgd",
                              "train.lr=1e6", "train.epochs=20", capsys=capsys)
    results = json.loads(out.read_text(encoding="utf-8"))
    assert code == 1 and results["status"] == "diverged" and "became" in results["reason"]
    assert len(results["history"]) == results["epochs_run"] < 20
    assert stdout.startswith("status: diverged (loss of task")


def test_the_summary_lists_each_tasks_test_metrics(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli("run", str(DIABETES_TOML), "--out", str(tmp_path / "r.json"), "--set", "train.epochs=2",
                           capsys=capsys)
    lines = out.splitlines()
    assert code == 0 and lines[0].startswith("status: completed; 2 epochs in ")
    assert lines[1].startswith("test progression: mse ") and lines[2].startswith("test high_progression: accuracy ")
    assert lines[-1] == f"results: {tmp_path / 'r.json'}"


def test_without_out_the_results_go_to_the_results_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("MTL_RESULTS_DIR", str(tmp_path / "results"))
    code, out, _ = run_cli("run", str(DIABETES_TOML), "--quiet", "--set", "train.epochs=1", capsys=capsys)
    (written,) = (tmp_path / "results").iterdir()
    assert code == 0 and out == "" and written.name.startswith("diabetes-") and written.suffix == ".json"


def test_a_run_whose_last_update_overflows_still_writes_valid_results(tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r.json"
    code, _, _ = run_cli("run", str(DIABETES_TOML), "--quiet", "--out", str(out), "--set", "train.optimizer=sgd",
                         "train.lr=1e6", "train.epochs=2", capsys=capsys)
    results = json.loads(out.read_text(encoding="utf-8"))
    assert (code, results["status"]) == (1, "diverged")


FAST_COMPARE = ["--seeds", "2", "--set", "train.epochs=2", "train.device=cpu"]


def test_compare_writes_the_summary_and_prints_table_delta_m_and_verdicts(tmp_path: Path,
                                                                          capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "c.json"
    code, stdout, _ = run_cli("compare", str(DIABETES_TOML), *FAST_COMPARE, "--strategies", "equal,pcgrad",
                              "--metrics", "r2", "--out", str(out), capsys=capsys)
    summary = json.loads(out.read_text(encoding="utf-8"))
    assert code == 0 and summary["seeds"] == [0, 1]
    for block in summary["tasks"].values():
        assert {"metric", "higher_is_better", "results", "paired"} <= set(block)
        assert set(block["results"]) == {"stl", "equal", "pcgrad"}
        assert {"mean", "std", "values"} <= set(block["results"]["pcgrad"])
        assert {"mean_diff", "std_diff", "wins", "p_wilcoxon", "p_t"} <= set(block["paired"]["pcgrad"])
    assert {"mean", "std"} <= set(summary["delta_m_percent"]["equal"]) and len(summary["runs"]) == 6
    assert all("config" in run for run in summary["runs"])
    lines = stdout.splitlines()
    assert lines[1].split() == ["method", "progression", "mse", "(↓)", "high_progression", "accuracy", "(↑)"]
    assert [line.split()[0] for line in lines[2:5]] == ["stl", "equal", "pcgrad"]
    assert "than training each task alone" in stdout and "\n  high_progression: " in stdout
    assert lines[-1] == f"results: {out}"


def test_compare_with_an_unknown_strategy_exits_2_with_a_suggestion(tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli("compare", str(DIABETES_TOML), "--strategies", "equal,pcgard", "--out",
                             str(tmp_path / "c.json"), capsys=capsys)
    assert code == 2 and out == "" and not (tmp_path / "c.json").exists()
    assert len(err.strip().splitlines()) == 1 and "Did you mean 'pcgrad'" in err


def test_compare_without_out_writes_to_the_results_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("MTL_RESULTS_DIR", str(tmp_path / "results"))
    code, out, _ = run_cli("compare", str(DIABETES_TOML), "--seeds", "1", "--set", "train.epochs=1", "--quiet",
                           capsys=capsys)
    (written,) = (tmp_path / "results").iterdir()
    assert code == 0 and out == "" and written.name.startswith("diabetes-compare-") and written.suffix == ".json"


def test_pareto_writes_the_front_and_prints_one_row_per_point(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "p.json"
    code, stdout, _ = run_cli("pareto", str(DIABETES_TOML), "--points", "3", *FAST_COMPARE, "--strategies", "dwa",
                              "--out", str(out), capsys=capsys)
    front = json.loads(out.read_text(encoding="utf-8"))
    assert code == 0 and [point["label"] for point in front["points"]] == ["0.5/1.5", "1/1", "1.5/0.5"]
    assert {"points", "strategies", "stl", "tasks", "seeds", "runs"} <= set(front) and "dwa" in front["strategies"]
    rows = [line.split()[0:2] for line in stdout.splitlines()[2:7]]
    assert rows == [["static", "0.5/1.5"], ["static", "1/1"], ["static", "1.5/0.5"], ["dwa", rows[3][1]],
                    ["stl", rows[4][1]]]


def test_pareto_with_too_few_points_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli("pareto", str(DIABETES_TOML), "--points", "0", "--out", str(tmp_path / "p.json"),
                           capsys=capsys)
    assert code == 2 and "points = 0" in err


def test_compare_with_diverged_runs_exits_1_and_still_writes_the_summary(tmp_path: Path,
                                                                         capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "c.json"
    code, stdout, _ = run_cli("compare", str(DIABETES_TOML), "--seeds", "2", "--out", str(out), "--set",
                              "train.optimizer=sgd", "train.lr=1e6", "train.epochs=5", capsys=capsys)
    summary = json.loads(out.read_text(encoding="utf-8"))
    assert code == 1 and {run["status"] for run in summary["runs"]} == {"diverged"}
    assert "left out of the statistics" in stdout
