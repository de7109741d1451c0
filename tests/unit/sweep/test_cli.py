"""``python -m mtl_core sweep``: user errors exit 2 with one line before anything trains; Ray and MLflow stay
unloaded until a command needs them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mtl_core import limits
from mtl_core.cli import main

SWEEP = 'metric = "val.progression.mse"\n[base]\ndata = {dataset = "diabetes"}\ntrain = {epochs = 2}\n'


def sweep_file(tmp_path: Path, extra: str = "") -> str:
    path = tmp_path / "sweep.toml"
    path.write_text(SWEEP.replace("[base]", extra + "[base]"), encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(("extra", "arguments", "named"), [
    ('[grid]\n"train.lr" = [-1.0]\n', [], "grid.train.lr = -1.0"),
    ("sampels = 3\n", [], "sampels"),
    ("", ["--max-concurrent", str(limits.MAX_CONCURRENT_TRIALS + 1)], "MTL_MAX_CONCURRENT_TRIALS"),
    (f"seeds = {limits.MAX_TRIALS + 1}\n", [], "MTL_MAX_TRIALS"),
    ('scheduler = "asha"\n', [], "ray"),
    ("", ["--address", "auto"], "--address"),
])
def test_a_bad_sweep_exits_2_with_one_line_before_training(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                           extra: str, arguments: list[str], named: str) -> None:
    code = main(["sweep", sweep_file(tmp_path, extra), "--no-store", *arguments])
    error = capsys.readouterr().err
    assert code == 2 and error.count("\n") == 1 and error.startswith("error: ") and named in error


def test_the_command_line_loads_neither_ray_nor_mlflow() -> None:
    probe = "import sys, mtl_core.cli, mtl_core.sweep; print(sorted({'ray', 'mlflow'} & set(sys.modules)))"
    shown = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                           cwd=Path(__file__).resolve().parents[3])
    assert shown.stdout.strip() == "[]"
