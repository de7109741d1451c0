"""Every CSV the project writes neutralises formula-like text (OWASP "CSV Injection"); numbers stay numbers."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from mtl_core.cli import main
from mtl_core.csv_safety import csv_text, neutralise, write_frame
from mtl_core.experiment import predictions_frame
from mtl_core.store import RunStore
from tests.fixtures.builders import toy_table
from tests.unit.store.writers import synthetic_results

HOSTILE = ["=HYPERLINK(\"http://evil\",\"x\")", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)", "\tx", "\rx"]


def cells(text: str) -> list[str]:
    """Every cell of a CSV text, header included."""
    return [cell for row in csv.reader(io.StringIO(text, newline="")) for cell in row]


def assert_no_formula(text: str) -> None:
    """No cell of the CSV starts as a formula would, except plain numbers."""
    for cell in cells(text):
        assert not cell.startswith(("=", "+", "@", "\t", "\r")), cell
        assert not cell.startswith("-") or pd.to_numeric(cell, errors="coerce") == pd.to_numeric(cell, errors="coerce")


@pytest.mark.parametrize("value", HOSTILE)
def test_text_starting_like_a_formula_gets_a_leading_apostrophe(value: str) -> None:
    assert neutralise(value) == "'" + value


@pytest.mark.parametrize("value", [-1.5, -2, 0.0, "-1.5", "+2", "-3e4", "plain", "", "a=b", None])
def test_numbers_and_ordinary_text_are_left_as_they_are(value: object) -> None:
    assert neutralise(value) == value


def test_a_frame_keeps_its_numeric_columns_and_neutralises_text_cells_and_names() -> None:
    frame = pd.DataFrame({"=name": ["=1+1", "ok"], "value": [-1.0, 2.0], "kind": pd.Categorical(["@x", "b"])})
    assert cells(csv_text(frame)) == ["'=name", "value", "kind", "'=1+1", "-1.0", "'@x", "ok", "2.0", "b"]
    assert frame.loc[0, "=name"] == "=1+1"  # the caller's frame is unchanged


def test_the_dashboards_predictions_csv_neutralises_task_names_and_class_labels() -> None:
    results = {"predictions": {"=task": {"row": [0, 1], "true": [0, 1], "pred": [1, 0],
                                         "classes": ["=1+2", "@cmd"], "proba": [0.9, 0.1]}}}
    text = csv_text(predictions_frame(results))
    assert "'=task" in cells(text) and "p(@cmd)" in cells(text)
    assert_no_formula(text)


def test_runs_export_csv_neutralises_every_table(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "runs.sqlite")
    results = synthetic_results(0)
    hostile = {"=task": {"row": [1, 2], "true": ["@a", "-b"], "pred": ["+c", "=d"], "classes": ["=x", "@y", "z"],
                         "proba": [[0.1, 0.2, 0.7], [0.3, 0.3, 0.4]]}}
    results = replace(results, predictions=hostile)
    run_id = store.start_run(results.config)
    store.finish(run_id, results)
    out = store.export(run_id, "csv", tmp_path / "out")
    store.close()
    for name in ("history.csv", "metrics.csv", "predictions.csv"):
        assert_no_formula((out / name).read_text(encoding="utf-8"))
    predictions = (out / "predictions.csv").read_text(encoding="utf-8")
    assert {"'=task", "'@a", "'=d", "p(=x)"} <= set(cells(predictions))
    assert not list(out.glob("*.part"))


def test_a_frame_is_written_whole(tmp_path: Path) -> None:
    write_frame(pd.DataFrame({"a": ["=1"], "b": [-1]}), tmp_path / "t.csv")
    assert (tmp_path / "t.csv").read_text(encoding="utf-8").splitlines() == ["a,b", "'=1,-1"]
    assert [path.name for path in tmp_path.iterdir()] == ["t.csv"]


def test_predict_writes_formula_like_class_names_as_text(tmp_path: Path) -> None:
    table = toy_table()
    table["k"] = table["k"].map({"low": "=1+2", "mid": "@SUM(A1)", "high": "+cmd"})
    data = tmp_path / "toy.csv"
    table.to_csv(data, index=False)
    config = tmp_path / "toy.toml"
    config.write_text('[data]\npath = "toy.csv"\n[[tasks]]\nname = "k"\ncolumn = "k"\nkind = "multiclass"\n'
                      '[model]\nhidden = [4]\n[train]\nepochs = 1\ndevice = "cpu"\n', encoding="utf-8")
    assert main(["run", str(config), "--run-dir", str(tmp_path / "run"), "--quiet"]) == 0
    out = tmp_path / "predicted.csv"
    assert main(["predict", str(tmp_path / "run"), str(data), "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert_no_formula(text)
    assert {"'=1+2", "'@SUM(A1)", "'+cmd"} & set(cells(text))
    assert "'k_proba_=1+2" not in cells(text) and "k_proba_=1+2" in cells(text)  # starts with k: already safe


def test_no_module_writes_csv_except_through_the_neutraliser() -> None:
    root = Path(__file__).resolve().parents[3]
    writers = ("to_csv(", "csv.writer(", "csv.DictWriter(", "DictWriter(")
    offenders = [str(path.relative_to(root)) for folder in ("mtl_core", "pages") for path in (root / folder).rglob("*.py")
                 if path.name != "csv_safety.py" and any(word in path.read_text(encoding="utf-8") for word in writers)]
    assert offenders == [], f"write CSV with mtl_core.csv_safety (csv_text, write_frame, write_rows): {offenders}"


def test_a_long_number_like_cell_is_neutralised_in_linear_time() -> None:
    import signal

    def too_slow(*_: object) -> None:
        raise AssertionError("a backtracking regular expression: quadratic in the cell's length")

    previous = signal.signal(signal.SIGALRM, too_slow)
    signal.alarm(10)  # linear: milliseconds; the quadratic pattern took about 30 minutes
    try:
        assert neutralise("-" + "1" * 200_000 + "x").startswith("'-111")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
