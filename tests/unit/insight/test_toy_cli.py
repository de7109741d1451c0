"""``python -m mtl_core toy``: the JSON it writes, what it prints, and one line with exit code 2 for a bad name."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from mtl_core.errors import MTLError
from mtl_core.insight.toy_cli import add_toy_command


def toy(argv: Sequence[str]) -> int:
    """The sub-command as ``mtl_core.cli.main`` runs it: parse, dispatch, an MTLError as one line and exit 2."""
    parser = argparse.ArgumentParser(prog="python -m mtl_core")
    add_toy_command(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["toy", *argv])
    try:
        return int(args.handler(args))
    except MTLError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def test_writes_each_strategys_runs_from_each_start(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "toy.json"
    code = toy(["--strategies", "equal,mgda", "--steps", "40", "--lr", "0.01", "--start", "1", "2",
                "--start", "-3", "4.5", "--points", "5", "--workers", "1", "--out", str(out)])
    written = json.loads(out.read_text(encoding="utf-8"))
    assert code == 0 and list(written) == ["equal", "mgda"]
    for runs in written.values():
        assert [run["start"] for run in runs] == [[1.0, 2.0], [-3.0, 4.5]]
        for run in runs:
            assert run["trajectory"][0] == run["start"] and run["trajectory"][-1] == run["end"]
            assert len(run["trajectory"]) == 5 and all(len(point) == 2 for point in run["trajectory"])
    shown = capsys.readouterr().out
    assert shown.count("middle") == 5 and "(1, 2) ->" in shown and "mgda" in shown and str(out) in shown


def test_the_papers_three_starts_by_default(tmp_path: Path) -> None:
    out = tmp_path / "toy.json"
    assert toy(["--strategies", "pcgrad", "--steps", "3", "--workers", "1", "--out", str(out)]) == 0
    assert [run["start"] for run in json.loads(out.read_text())["pcgrad"]] == [[-8.5, 7.5], [-8.5, -5.0], [9.0, 9.0]]


def test_an_unknown_strategy_is_one_line_and_exit_code_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "toy.json"
    assert toy(["--strategies", "equal,pcgard", "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "pcgard" in error and "pcgrad" in error and not out.exists()


def test_a_strategy_the_toy_cannot_run_says_why(capsys: pytest.CaptureFixture[str]) -> None:
    assert toy(["--strategies", "gradnorm"]) == 2
    assert "last shared layer" in capsys.readouterr().err


def test_the_command_line_of_the_project_offers_it_once_wired() -> None:
    from mtl_core.cli import build_parser

    parser = build_parser()
    commands = next(action for action in parser._actions if isinstance(action, argparse._SubParsersAction))
    if "toy" not in commands.choices:
        pytest.skip("the toy command is not wired into mtl_core.cli yet")
    assert parser.parse_args(["toy"]).handler.__name__ == "command_toy"
