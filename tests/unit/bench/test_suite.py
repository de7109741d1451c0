"""``python -m bench --quick`` end to end, in a process of its own: every record has the schema, the docs go where
``--doc`` says, and the repository's docs/benchmarks.md is left alone."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
FIELDS = {"name", "parameters", "value", "unit", "baseline", "ratio", "machine"}
MACHINE = {"cpu", "cores", "threads", "torch", "device"}


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""


def test_quick_suite_writes_records_and_docs_where_told(tmp_path: Path) -> None:
    before = digest(ROOT / "docs" / "benchmarks.md"), digest(ROOT / "docs" / "leaderboard.md")
    out, doc = tmp_path / "results.json", tmp_path / "docs" / "benchmarks.md"
    done = subprocess.run([sys.executable, "-m", "bench", "--quick", "--out", str(out), "--doc", str(doc),
                           "--cache", str(tmp_path / "cache")],
                          cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    records = json.loads(out.read_text(encoding="utf-8"))
    assert records and all(set(item) == FIELDS and MACHINE <= set(item["machine"]) for item in records)
    assert all(isinstance(item["parameters"], dict) and isinstance(item["unit"], str) for item in records)
    names = {item["name"] for item in records}
    assert {"overhead", "strategy_step", "scale_epoch", "scale_memory", "gpu", "leaderboard"} <= names
    ratios = [item["ratio"] for item in records if item["name"] == "overhead"]
    assert all(isinstance(ratio, float) and ratio > 0 for ratio in ratios)
    assert "## Engine overhead" in doc.read_text(encoding="utf-8")
    assert (doc.parent / "leaderboard.md").is_file() and (doc.parent / "scaling_curves.html").is_file()
    assert (digest(ROOT / "docs" / "benchmarks.md"), digest(ROOT / "docs" / "leaderboard.md")) == before
    again = tmp_path / "again" / "benchmarks.md"
    subprocess.run([sys.executable, "-m", "bench", "--from", str(out), "--doc", str(again)], cwd=ROOT, check=True,
                   capture_output=True, timeout=120)
    headings = [line for line in again.read_text(encoding="utf-8").splitlines() if line.startswith("## ")]
    assert {"## Engine overhead", "## Weighting step time", "## GPU"} <= set(headings)
