"""``predict`` refuses, with one line that never quotes a file, a run folder that is cut short, mixed from two runs,
pickled or corrupt, and data it cannot read."""

from __future__ import annotations

import json
import pickle
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from mtl_core.cli import main
from mtl_core.errors import DataError
from mtl_core.predict import read_array, read_listing
from mtl_core.runs import MANIFEST_FILE, write_manifest

ROOT = Path(__file__).resolve().parents[3]
DIABETES_TOML = ROOT / "examples" / "diabetes.toml"
FAST = ["--no-store", "--quiet", "--set", "train.epochs=1", "model.hidden=[4]", "train.device=cpu"]
SECRET = "SECRET-TOKEN-4f1d"


class Payload:
    """What an attacker's pickle would run when loaded."""

    def __reduce__(self) -> tuple[Callable[..., object], tuple[str]]:
        return (print, ("the pickle ran",))


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two whole run folders of the same config, seeds 0 and 1."""
    root = tmp_path_factory.mktemp("runs")
    for seed in (0, 1):
        assert main(["run", str(DIABETES_TOML), "--run-dir", str(root / f"seed{seed}"), *FAST,
                     "--set", f"train.seed={seed}"]) == 0
    return root / "seed0", root / "seed1"


@pytest.fixture
def copy(runs: tuple[Path, Path], tmp_path: Path) -> Path:
    shutil.copytree(runs[0], tmp_path / "run")
    return tmp_path / "run"


def refused(folder: Path, capsys: pytest.CaptureFixture[str], data: Path = DIABETES_TOML) -> str:
    capsys.readouterr()
    code = main(["predict", str(folder), str(data), "--out", str(folder.parent / "p.csv")])
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and "Traceback" not in captured.err, captured.err
    assert "the pickle ran" not in captured.out + captured.err
    return lines[0]


def remanifest(folder: Path) -> None:
    """A manifest that matches the folder as it now is (the loader, not the manifest, must refuse it)."""
    (folder / MANIFEST_FILE).unlink()
    write_manifest(folder, "completed")


def test_a_cut_short_checkpoint_is_refused(copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    best = copy / "checkpoints" / "best.pt"
    best.write_bytes(best.read_bytes()[:100])
    assert "cut short" in refused(copy, capsys)


def test_a_checkpoint_from_another_run_is_refused(copy: Path, runs: tuple[Path, Path],
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(runs[1] / "checkpoints" / "best.pt", copy / "checkpoints" / "best.pt")
    assert "another run" in refused(copy, capsys)


def test_a_folder_without_its_manifest_is_refused(copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (copy / MANIFEST_FILE).unlink()
    assert MANIFEST_FILE in refused(copy, capsys)


@pytest.mark.parametrize("content", [pickle.dumps(Payload()), b"\x00garbage" * 50, b""],
                         ids=["pickle", "garbage", "empty"])
def test_a_pickled_or_corrupt_checkpoint_is_refused_and_never_run(copy: Path, content: bytes,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    (copy / "checkpoints" / "best.pt").write_bytes(content)
    remanifest(copy)
    assert "best.pt" in refused(copy, capsys)


def test_a_folder_made_before_manifests_still_refuses_a_corrupt_checkpoint(
        copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (copy / MANIFEST_FILE).unlink()
    summary = json.loads((copy / "run.json").read_text(encoding="utf-8"))
    (copy / "run.json").write_text(json.dumps({**summary, "format": 1}), encoding="utf-8")
    (copy / "checkpoints" / "best.pt").write_bytes(pickle.dumps(Payload()))
    assert "holds pickled code" in refused(copy, capsys)


@pytest.mark.parametrize("content", [b"\xff\xfe not utf-8", b"[" * 100_000, b"[1, 2]"],
                         ids=["not-utf-8", "deep", "a-list"])
def test_an_unreadable_run_json_is_refused_without_quoting_it(copy: Path, content: bytes,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    (copy / "run.json").write_bytes(content)
    remanifest(copy)
    assert "run.json" in refused(copy, capsys)


def test_a_missing_folder_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert "not a folder" in refused(tmp_path / "nothing", capsys)


def test_a_file_given_as_data_is_never_quoted(runs: tuple[Path, Path], tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "passwd"
    data.write_text(f"{SECRET}\nroot\nx\n", encoding="utf-8")
    assert SECRET not in refused(runs[0], capsys, data)


def test_a_pickled_or_corrupt_npy_array_is_one_line(tmp_path: Path) -> None:
    np.save(tmp_path / "objects.npy", np.array([Payload()], dtype=object), allow_pickle=True)
    (tmp_path / "cut.npy").write_bytes((tmp_path / "objects.npy").read_bytes()[:20])
    for name in ("objects.npy", "cut.npy"):
        with pytest.raises(DataError, match="not a .npy array of numbers"):
            read_array(tmp_path / name, (1, 4, 4))


def test_an_image_listing_without_the_column_does_not_quote_its_header(tmp_path: Path) -> None:
    listing = tmp_path / "labels.csv"
    listing.write_text(f"{SECRET},other\n1,2\n", encoding="utf-8")
    with pytest.raises(DataError) as raised:
        read_listing(listing, "file")
    assert SECRET not in str(raised.value) and "has no such column" in str(raised.value)


@pytest.mark.parametrize("name", ["/dev/zero", "../outside.txt"])
def test_a_manifest_naming_a_file_outside_the_folder_is_refused(copy: Path, name: str,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    (copy.parent / "outside.txt").write_text("x", encoding="utf-8")
    manifest = json.loads((copy / MANIFEST_FILE).read_text(encoding="utf-8"))
    manifest["files"][name] = {"bytes": 1, "sha256": "0" * 64}
    (copy / MANIFEST_FILE).write_text(json.dumps(manifest), encoding="utf-8")
    assert "another run" in refused(copy, capsys)
