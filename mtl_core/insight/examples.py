"""Ready-made runs with ``train.diagnostics`` on, for the Insight page: wine quality's two heads, and the synthetic
tasks of Ma et al., 2018 ("Modeling Task Relationships in Multi-task Learning with Multi-gate Mixture-of-Experts",
KDD, §4.1) at task correlation 0 and 1. Plain config dicts: no data or PyTorch is loaded here.

>>> example("mmoe-unrelated")["data"]["params"]["correlation"]
0.0
"""

from __future__ import annotations

import copy
from typing import Any

from mtl_core.presets import preset

TITLES = {  # the first needs no download
    "mmoe-unrelated": "mmoe-synthetic, task correlation 0 (unrelated tasks, MMoE)",
    "mmoe-related": "mmoe-synthetic, task correlation 1 (the same task twice, MMoE)",
    "wine-red": "wine-red: quality score and good / not good (hard sharing)",
}


def example(key: str) -> dict[str, Any]:
    """The config dict of example ``key`` (one of ``TITLES``), diagnostics on; a fresh copy."""
    if key == "wine-red":
        values = preset("wine-seed").config()
    else:
        values = preset("mmoe-correlation").config()
        values["data"]["params"]["correlation"] = 0.0 if key == "mmoe-unrelated" else 1.0
    values = copy.deepcopy(values)
    values["train"] = {**values.get("train", {}), "diagnostics": True}
    return values
