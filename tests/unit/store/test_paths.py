"""Where the store lives: MTL_DB, MTL_HOME, XDG_DATA_HOME, the home folder; tests never use the real one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mtl_core.store import default_path

from tests.unit.store.conftest import ROOT


def test_tests_and_their_subprocesses_store_under_a_temporary_home() -> None:
    home = Path(os.environ["MTL_HOME"])
    assert "MTL_DB" not in os.environ and default_path() == home / "runs.sqlite"
    assert not default_path().is_relative_to(Path.home() / ".local")
    shown = subprocess.run([sys.executable, "-c", "from mtl_core.store import default_path; print(default_path())"],
                           cwd=ROOT, capture_output=True, text=True, check=True)
    assert shown.stdout.strip() == str(home / "runs.sqlite")


def test_the_settings_are_looked_at_in_order(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("MTL_DB", "MTL_HOME", "XDG_DATA_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    assert default_path() == tmp_path / "user" / ".local" / "share" / "mtl-lab" / "runs.sqlite"
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_path() == tmp_path / "xdg" / "mtl-lab" / "runs.sqlite"
    monkeypatch.setenv("MTL_HOME", str(tmp_path / "home"))
    assert default_path() == tmp_path / "home" / "runs.sqlite"
    monkeypatch.setenv("MTL_DB", str(tmp_path / "one.sqlite"))
    assert default_path() == tmp_path / "one.sqlite"
