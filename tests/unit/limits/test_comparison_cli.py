"""compare and pareto refuse, before any run, seeds, points and total epochs past their limits (exit 2, one line)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mtl_core.cli import main

DIABETES = str(Path(__file__).resolve().parents[3] / "examples" / "diabetes.toml")


@pytest.mark.parametrize(("argv", "named"), [
    (["compare", DIABETES, "--seeds", "500"], "MTL_MAX_SEEDS"),
    (["pareto", DIABETES, "--points", "99"], "MTL_MAX_POINTS"),
    (["compare", DIABETES, "--seeds", "20", "--strategies", "equal,pcgrad,mgda,cagrad", "--set",
      "train.epochs=1000"], "MTL_MAX_COMPARISON_EPOCHS"),
])
def test_a_comparison_past_a_limit_exits_2_naming_it_before_training(argv: list[str], named: str,
                                                                     capsys: pytest.CaptureFixture[str],
                                                                     tmp_path: Path) -> None:
    assert main([*argv, "--quiet", "--out", str(tmp_path / "out.json")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and named in err[0]
    assert not (tmp_path / "out.json").exists()
