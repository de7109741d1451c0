"""The versions a run was trained with, read from package metadata (importing PyTorch is not needed)."""

from __future__ import annotations

import functools
import platform
from importlib import metadata

PACKAGES = {"torch": "torch", "sklearn": "scikit-learn", "numpy": "numpy"}


@functools.cache
def package_versions() -> dict[str, str]:
    """``{"python": ..., "mtl_core": ..., "torch": ..., "sklearn": ..., "numpy": ...}``; a missing package is left out."""
    from mtl_core import __version__

    versions = {"python": platform.python_version(), "mtl_core": __version__}
    for key, distribution in PACKAGES.items():
        try:
            versions[key] = metadata.version(distribution)
        except metadata.PackageNotFoundError:
            continue
    return versions
