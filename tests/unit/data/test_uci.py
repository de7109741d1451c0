"""The UCI Wine Quality download: data folder first, then the cache, then a checked download."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from mtl_core.data import uci
from mtl_core.errors import DataError



@pytest.fixture
def offline_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, wine_available: Path) -> Path:
    """No data folder, an empty cache, and UCI served from the shared data folder as file:// URLs."""
    monkeypatch.delenv("MTL_DATA_DIR", raising=False)
    cache = tmp_path / "cache"
    monkeypatch.setenv("MTL_CACHE_DIR", str(cache))
    monkeypatch.setattr(uci, "UCI_BASE", wine_available.resolve().as_uri())
    return cache


def test_the_data_folder_is_looked_at_first(wine_available: Path) -> None:
    assert uci.wine_file("red", download=False) == wine_available / "winequality-red.csv"


def test_a_missing_file_is_downloaded_into_the_cache_with_its_checksum_verified(offline_cache: Path,
                                                                                wine_available: Path) -> None:
    path = uci.wine_file("red")
    assert path == offline_cache / "winequality-red.csv"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == uci.WINE_SHA256["winequality-red.csv"]
    assert path.read_bytes() == (wine_available / "winequality-red.csv").read_bytes()
    assert [item.name for item in offline_cache.iterdir()] == ["winequality-red.csv"]  # no partial file left


def test_a_cached_file_is_used_without_downloading_again(offline_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    uci.wine_file("white")
    monkeypatch.setattr(uci, "UCI_BASE", "file:///nowhere-at-all")
    assert uci.wine_file("white") == offline_cache / "winequality-white.csv"


def test_a_download_with_the_wrong_checksum_is_refused_and_not_cached(offline_cache: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(uci.WINE_SHA256, "winequality-red.csv", "0" * 64)
    with pytest.raises(DataError) as caught:
        uci.wine_file("red")
    message = str(caught.value)
    assert "winequality-red.csv" in message and "expected " + "0" * 64 in message and "not kept" in message
    assert not (offline_cache / "winequality-red.csv").exists()
    assert not offline_cache.exists() or not any(offline_cache.iterdir())


def test_a_failed_download_names_the_file_the_folders_and_how_to_place_it(offline_cache: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(uci, "UCI_BASE", (offline_cache.parent / "no-such-folder").as_uri())
    with pytest.raises(DataError) as caught:
        uci.wine_file("red")
    message = str(caught.value)
    assert message.startswith("winequality-red.csv is not available: the download from")
    assert f"Looked in: {offline_cache / 'winequality-red.csv'}" in message and "$MTL_DATA_DIR is not set" in message
    assert f"place it in {offline_cache}" in message and "set MTL_DATA_DIR" in message
    assert not (offline_cache / "winequality-red.csv").exists()


def test_the_message_lists_the_data_folder_when_one_is_set(offline_cache: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "data"
    monkeypatch.setenv("MTL_DATA_DIR", str(folder))
    with pytest.raises(DataError) as caught:
        uci.wine_file("red", download=False)
    message = str(caught.value)
    assert "downloads are switched off" in message
    assert str(folder / "winequality-red.csv") in message and str(offline_cache / "winequality-red.csv") in message


def test_the_cache_folder_falls_back_to_xdg_then_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("MTL_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert uci.cache_dir() == tmp_path / "mtl-lab"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert uci.cache_dir() == Path.home() / ".cache" / "mtl-lab"


def test_the_shared_folder_holds_the_original_files(wine_available: Path) -> None:
    for name, digest in uci.WINE_SHA256.items():
        assert hashlib.sha256((wine_available / name).read_bytes()).hexdigest() == digest
