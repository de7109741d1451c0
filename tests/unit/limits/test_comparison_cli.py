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


@pytest.mark.parametrize("strategy", ["rlw", "pcgrad", "graddrop", "gradvac"])
def test_a_strategy_seed_past_what_generators_take_exits_2(strategy: str, capsys: pytest.CaptureFixture[str],
                                                            tmp_path: Path) -> None:
    argv = ["run", DIABETES, "--quiet", "--no-store", "--out", str(tmp_path / "r.json"), "--set",
            f"strategy.name={strategy}", "strategy.seed=10000000000000"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "strategy.seed" in err[0] and "2147483647" in err[0]
