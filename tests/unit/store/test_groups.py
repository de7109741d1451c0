"""Comparisons and Pareto sweeps are stored as a group: each run (every method and seed) and the summary."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from mtl_core.cli import main
from mtl_core.compare import compare
from mtl_core.store import RunStore

from tests.unit.store.conftest import DIABETES_TOML, diabetes

FAST = ["--seeds", "2", "--set", "train.epochs=2", "train.device=cpu"]


def group_id(out: str) -> str:
    match = re.search(r"^group: (\S+) ", out, re.MULTILINE)
    assert match is not None, out
    return match.group(1)


def test_compare_stores_every_run_and_the_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db, out = tmp_path / "runs.sqlite", tmp_path / "c.json"
    code = main(["compare", str(DIABETES_TOML), *FAST, "--strategies", "equal,pcgrad", "--db", str(db),
                 "--out", str(out)])
    printed = capsys.readouterr().out
    group = RunStore(db).get_group(group_id(printed))
    summary = json.loads(out.read_text(encoding="utf-8"))
    assert code == 0 and group is not None and group.summary.kind == "compare"
    assert group.result == summary and group.summary.status == "completed" and group.summary.n_runs == 6
    labels = sorted((run.label, run.status) for run in group.runs)
    assert labels == sorted([(method, "completed") for method in ("stl", "equal", "pcgrad") for _ in range(2)])
    by_seed = {(run["method"], run["seed"]): run["test"] for run in summary["runs"]}
    store = RunStore(db)
    for run in group.runs:
        stored = store.require(run.id)
        assert len(stored.history) == 2
        assert by_seed[(run.label, stored.config["train"]["seed"])] == stored.metrics["test"]


def test_pareto_stores_its_sweep_points_as_a_group(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "runs.sqlite"
    code = main(["pareto", str(DIABETES_TOML), "--points", "3", "--seeds", "1", "--set", "train.epochs=2",
                 "--db", str(db), "--out", str(tmp_path / "p.json")])
    group = RunStore(db).get_group(group_id(capsys.readouterr().out))
    assert code == 0 and group is not None and group.summary.kind == "pareto"
    assert sorted(str(run.label) for run in group.runs) == sorted(["stl", "equal", "0.5/1.5", "1/1", "1.5/0.5"])
    assert RunStore(db).list_groups(kind="pareto")[0].id == group.summary.id


def test_storing_a_comparison_leaves_its_numbers_unchanged(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "runs.sqlite")
    group = store.start_group("compare", diabetes(epochs=2))
    stored = compare(diabetes(epochs=2), seeds=2, on_run=store.group_recorder(group))
    plain = compare(diabetes(epochs=2), seeds=2)
    assert [run["test"] for run in stored["runs"]] == [run["test"] for run in plain["runs"]]
    assert store.count_runs(group_id=group) == 4


def test_a_comparison_that_raises_leaves_a_failed_group(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    import mtl_core.compare as comparisons

    def broken(*args: object, **kwargs: object) -> dict[str, object]:
        raise RuntimeError("out of memory")

    monkeypatch.setattr(comparisons, "compare", broken)
    db = tmp_path / "runs.sqlite"
    with pytest.raises(RuntimeError):
        main(["compare", str(DIABETES_TOML), "--db", str(db), "--out", str(tmp_path / "c.json")])
    groups = RunStore(db).list_groups()
    assert [(group.kind, group.status) for group in groups] == [("compare", "failed")]
