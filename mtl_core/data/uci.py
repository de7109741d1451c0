"""The UCI Wine Quality files: looked for in $MTL_DATA_DIR, then the user cache, then downloaded.

Cortez et al., 2009, "Modeling wine preferences by data mining from physicochemical
properties", Decision Support Systems 47(4). Licence CC BY 4.0.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from mtl_core.errors import DataError

UCI_BASE = "https://archive.ics.uci.edu/ml/machine-learning-databases/wine-quality"
WINE_FILES = {"red": "winequality-red.csv", "white": "winequality-white.csv"}
# sha256 of the original UCI files; a download that differs is refused rather than cached
WINE_SHA256 = {
    "winequality-red.csv": "4a402cf041b025d4566d954c3b9ba8635a3a8a01e039005d97d6a710278cf05e",
    "winequality-white.csv": "76c3f809815c17c07212622f776311faeb31e87610d52c26d87d6e361b169836",
}
DOWNLOAD_TIMEOUT_S = 30.0


def cache_dir() -> Path:
    """Where downloaded files are kept: $MTL_CACHE_DIR, else $XDG_CACHE_HOME/mtl-lab, else ~/.cache/mtl-lab."""
    if explicit := os.environ.get("MTL_CACHE_DIR"):
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mtl-lab"


def data_dir() -> Path | None:
    """The folder named by $MTL_DATA_DIR, looked at before the cache; None when unset."""
    value = os.environ.get("MTL_DATA_DIR")
    return Path(value) if value else None


def wine_file(colour: str, *, download: bool = True) -> Path:
    """The path of the red or white Wine Quality CSV, downloading it into the cache if needed."""
    name = WINE_FILES[colour]
    places = [folder / name for folder in (data_dir(), cache_dir()) if folder is not None]
    for place in places:
        if place.is_file():
            return place
    target = cache_dir() / name
    if not download:
        raise DataError(_missing_message(name, places, "downloads are switched off"))
    try:
        fetch(f"{UCI_BASE}/{name}", target, WINE_SHA256[name])
    except (OSError, urllib.error.URLError, http.client.HTTPException, ValueError) as error:
        raise DataError(_missing_message(name, places, f"the download from {UCI_BASE} failed ({error})")) from None
    return target


def fetch(url: str, target: Path, sha256: str | None = None) -> Path:
    """Download ``url`` to ``target`` atomically, checking its sha256 when given."""
    with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response:  # noqa: S310 (fixed https URL)
        payload = response.read()
    digest = hashlib.sha256(payload).hexdigest()
    if sha256 is not None and digest != sha256:
        raise DataError(
            f"the file downloaded from {url} has sha256 {digest}, expected {sha256}; it was not kept. "
            f"Download the original by hand and place it at {target}, or set MTL_DATA_DIR to its folder."
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=target.parent, delete=False, suffix=".part") as part:
        part.write(payload)
    Path(part.name).replace(target)  # atomic: a half-written file is never found in the cache
    return target


def _missing_message(name: str, places: list[Path], why: str) -> str:
    looked = ", ".join(str(place) for place in places)
    return (
        f"{name} is not available: {why}. Looked in: {looked}"
        f"{'' if data_dir() else ' ($MTL_DATA_DIR is not set)'}. "
        f"Download it by hand from {UCI_BASE}/{name} and place it in {cache_dir()}, "
        f"or set MTL_DATA_DIR to the folder that holds it."
    )
