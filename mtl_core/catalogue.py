"""The registered names, readable without importing PyTorch or scikit-learn.

``python -m mtl_core list ...`` prints these: a user asking which strategies exist should not wait
seconds for the engine to load. The registries in ``mtl_core.data``, ``mtl_core.weighting`` and
``mtl_core.models`` stay the truth; tests/unit/test_catalogue.py fails when a name is registered
there and missing here (or the other way round).
"""

from __future__ import annotations

DATASETS: tuple[str, ...] = (
    "cells-synthetic", "diabetes", "digits", "mmoe-synthetic", "routed-synthetic", "tips",
    "wine", "wine-red", "wine-white",
)

STRATEGIES: tuple[str, ...] = (
    "aligned_mtl", "cagrad", "config_grad", "cov", "db_mtl", "dtp", "dualproj", "dwa", "equal", "fairgrad",
    "famo", "gls", "grad_ratio", "graddrop", "gradnorm", "gradvac", "imtl_g", "imtl_l", "mgda", "moco",
    "nash_mtl", "pcgrad", "rlw", "scale_invariant", "static", "stch", "uncertainty", "upgrad",
)

ARCHITECTURES: tuple[str, ...] = (
    "cgc", "cross_stitch", "hps", "mmoe", "ple", "routed", "single_task", "soft_sharing",
)

NAMES: dict[str, tuple[str, ...]] = {"datasets": DATASETS, "strategies": STRATEGIES, "architectures": ARCHITECTURES}
