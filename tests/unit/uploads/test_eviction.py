"""Uploads are evicted by age (MAX_UPLOAD_AGE_H) and by total size (MAX_UPLOADS_MB), oldest first, never the file
just uploaded; a refused upload raises DataError only."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from mtl_core.data import uploads
from mtl_core.data.uploads import evict_uploads, save_upload
from mtl_core.errors import DataError
from mtl_core.limits import MAX_UPLOAD_AGE_H

HOUR = 3600.0


def table(seed: int, rows: int = 20) -> bytes:
    return ("a,b\n" + "".join(f"{seed},{index}\n" for index in range(rows))).encode()


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(uploads, "uploads_dir", lambda: tmp_path / "uploads")
    return tmp_path / "uploads"


def aged(path: Path, hours: float) -> Path:
    stamp = time.time() - hours * HOUR
    os.utime(path, (stamp, stamp))
    return path


def test_uploads_older_than_max_upload_age_are_removed_and_younger_ones_kept(folder: Path) -> None:
    old, _ = save_upload("old.csv", table(1))
    young, _ = save_upload("young.csv", table(2))
    aged(old, MAX_UPLOAD_AGE_H + 1), aged(young, MAX_UPLOAD_AGE_H - 1)
    new, _ = save_upload("new.csv", table(3))
    assert not old.exists() and young.exists() and new.exists()


def test_the_oldest_uploads_go_first_until_the_rest_fit_in_max_uploads_mb(folder: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(uploads, "MAX_UPLOADS_MB", 2)
    stored = [save_upload(f"t{index}.csv", table(index, rows=50_000))[0] for index in range(3)]  # ~0.42 MB each
    for hours, path in zip((3, 2, 1), stored, strict=True):
        aged(path, hours)
    monkeypatch.setattr(uploads, "MAX_UPLOADS_MB", 1)
    newest, _ = save_upload("t3.csv", table(3, rows=50_000))
    assert [path.exists() for path in stored] == [False, False, True] and newest.exists()
    assert sum(path.stat().st_size for path in folder.iterdir()) <= 2**20


def test_the_file_just_uploaded_is_kept_even_when_it_alone_passes_the_total(folder: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(uploads, "MAX_UPLOADS_MB", 1)
    other, _ = save_upload("other.csv", table(0))
    big, _ = save_upload("big.csv", table(1, rows=150_000))  # ~1.5 MB
    assert big.exists() and not other.exists()


def test_uploading_a_file_again_makes_it_new_so_it_is_not_evicted_by_age(folder: Path) -> None:
    path, _ = save_upload("same.csv", table(1))
    aged(path, MAX_UPLOAD_AGE_H + 1)
    again, _ = save_upload("same.csv", table(1))
    evict_uploads(folder)
    assert again == path and path.exists()


def test_a_half_written_file_left_by_a_crash_is_removed_after_an_hour(folder: Path) -> None:
    folder.mkdir(parents=True)
    stale, fresh = folder / ".crash.part", folder / ".writing.part"
    stale.write_bytes(b"a,b\n"), fresh.write_bytes(b"a,b\n")
    aged(stale, 2)
    assert evict_uploads(folder) == [stale] and fresh.exists()


def test_eviction_ignores_files_already_removed_by_another_process(folder: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    assert evict_uploads(folder / "missing") == []
    gone = folder / "gone.csv"  # listed, then removed by another server process before this one gets to it
    monkeypatch.setattr(uploads, "stored_files", lambda _: [(gone, 0.0, 10)])
    assert evict_uploads(folder) == [gone]


@pytest.mark.parametrize(("name", "payload"), [("x.xlsx", b"PK\x03\x04"), ("n" * 5000 + ".exe", b"a,b\n1,2\n"),
                                                ("t.csv", b"\x00\x01"), ("t.parquet", b"PAR1 broken")])
def test_a_refused_upload_raises_one_short_data_error_and_stores_nothing(folder: Path, name: str,
                                                                        payload: bytes) -> None:
    with pytest.raises(DataError) as caught:
        save_upload(name, payload)
    assert len(str(caught.value)) < 500 and "\n" not in str(caught.value)
    assert not folder.exists() or not any(folder.iterdir())


def test_a_disk_that_cannot_take_the_upload_gives_a_data_error(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(*_: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(uploads, "store", full)
    with pytest.raises(DataError, match="could not be stored on the server \\(No space left on device\\)"):
        save_upload("t.csv", table(1))
