"""Shared test set-up: the Wine Quality files come from ../shared/data, downloads go to a temporary cache."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"

os.environ.setdefault("MTL_DATA_DIR", str(SHARED_DATA))


@pytest.fixture(scope="session", autouse=True)
def _private_run_store(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Every test stores its runs under a temporary MTL_HOME, never in the user's data folder.

    Set in ``os.environ`` (not monkeypatched per test), so subprocesses started by tests inherit it.
    """
    os.environ["MTL_HOME"] = str(tmp_path_factory.mktemp("mtl-home"))
    os.environ.pop("MTL_DB", None)


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test gets an empty download cache, so nothing a test downloads leaks into another."""
    monkeypatch.setenv("MTL_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


WINE_DATASETS = {"wine": ("red", "white"), "wine-red": ("red",), "wine-white": ("white",)}


def skip_unless_local(dataset: str) -> None:
    """Skip, saying why, when a built-in data set needs a download that this machine has not made.

    The product's own lookup decides ($MTL_DATA_DIR, then the cache); tests never download.
    """
    from mtl_core.data.uci import wine_file
    from mtl_core.errors import DataError

    for colour in WINE_DATASETS.get(dataset, ()):
        try:
            wine_file(colour, download=False)
        except DataError as error:
            pytest.skip(f"data set {dataset!r} needs a download: {error}")


@pytest.fixture
def wine_available() -> Path:
    """The folder holding the Wine Quality CSVs; skips when the shared data is not beside the project."""
    folder = Path(os.environ["MTL_DATA_DIR"])
    if not (folder / "winequality-red.csv").is_file():
        pytest.skip(f"Wine Quality files not found in {folder}")
    return folder
