"""Limits on what a user may load, train or keep, set in one place and quoted in the errors that enforce them.

The defaults are sized for a shared demo on a small host (2 cores, under 3 GB of memory). Each limit can be
raised (or lowered) for a bigger machine by the environment variable named beside it, read once at import:
``MTL_MAX_EPOCHS=5000 streamlit run app.py``. A value past a limit is clamped with a message naming the
limit and its variable (dashboard, share link) or refused with exit 2 (command line); ``describe(name)``
words that message's tail.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Limit:
    """One limit: its value, the environment variable that overrides it, and what it bounds (for messages)."""

    name: str
    value: int
    variable: str
    what: str

    def __int__(self) -> int:
        return self.value

    def text(self) -> str:
        """``at most 1000 epochs (MTL_MAX_EPOCHS)``: the part of a message that names the limit."""
        return f"at most {self.value:,} {self.what} ({self.variable})"


LIMITS: dict[str, Limit] = {}


def _limit(name: str, default: int, what: str) -> int:
    """Register a limit read from ``MTL_<NAME>`` (a positive integer; anything else keeps the default)."""
    variable = f"MTL_{name}"
    raw = os.environ.get(variable, "").strip().replace("_", "")
    value = int(raw) if raw.isdigit() and int(raw) > 0 else default
    LIMITS[name] = Limit(name, value, variable, what)
    return value


def describe(name: str) -> str:
    """The wording of limit ``name`` for a message, e.g. ``at most 1,000 epochs (MTL_MAX_EPOCHS)``."""
    return LIMITS[name].text()


# Files and tables
MAX_UPLOAD_MB = _limit("MAX_UPLOAD_MB", 50, "MB per uploaded file")  # also server.maxUploadSize in .streamlit
MAX_ROWS = _limit("MAX_ROWS", 1_000_000, "rows per table")
MIN_ROWS = 10  # fewer cannot be split into training, validation and test rows (not a resource limit)
MAX_COLUMNS = _limit("MAX_COLUMNS", 2_000, "columns per table")
MAX_CELLS = _limit("MAX_CELLS", 5_000_000, "cells (rows × columns) per table, read or generated")
MAX_CATEGORIES = _limit("MAX_CATEGORIES", 50, "categories one-hot encoded per input column (the rest: other)")
MAX_CLASSES = _limit("MAX_CLASSES", 1_000, "classes per classification task")
MAX_IMAGES = _limit("MAX_IMAGES", 50_000, "images per data set")
MAX_IMAGE_SIDE = _limit("MAX_IMAGE_SIDE", 512, "pixels per image side, after resizing")
MAX_PIXELS = _limit("MAX_PIXELS", 20_000_000, "pixels in all images of a data set (images × side²)")
MAX_ABS_VALUE = 1e30  # larger magnitudes overflow the standardisation's variance in float64 and float32
MAX_UPLOADS_MB = _limit("MAX_UPLOADS_MB", 500, "MB of uploads kept on disk (oldest evicted first)")
MAX_UPLOAD_AGE_H = _limit("MAX_UPLOAD_AGE_H", 24 * 7, "hours an upload is kept on disk")

# Models and training
MAX_EPOCHS = _limit("MAX_EPOCHS", 1_000, "epochs per run")
MAX_UNITS = _limit("MAX_UNITS", 4_096, "units or channels per layer")
MAX_PARAMETERS = _limit("MAX_PARAMETERS", 5_000_000, "model parameters")
MAX_ACTIVATIONS = _limit("MAX_ACTIVATIONS", 100_000_000, "values one forward pass of a batch may produce")
# (400 MB in float32, and as much again for the gradients: two runs at once of the largest batch fit in 3 GB)
MAX_BATCH_SIZE = _limit("MAX_BATCH_SIZE", 1_000_000, "rows per batch")
MAX_SEED = 2**31 - 1  # what every seeded generator accepts (torch, NumPy, random): not a resource limit
MAX_RUN_SECONDS = _limit("MAX_RUN_SECONDS", 1_800, "seconds of training per run (then it stops, history kept)")

# Comparisons
MAX_SEEDS = _limit("MAX_SEEDS", 20, "seeds per comparison")
MAX_POINTS = _limit("MAX_POINTS", 15, "Pareto points per task")
MAX_COMPARISON_EPOCHS = _limit("MAX_COMPARISON_EPOCHS", 20_000, "epochs in one comparison, over all its runs")

# Sweeps (mtl_core.sweep)
MAX_TRIALS = _limit("MAX_TRIALS", 64, "trials per sweep (grid × samples × seeds)")
MAX_CONCURRENT_TRIALS = _limit("MAX_CONCURRENT_TRIALS", 4, "trials (or comparison runs) training at once on a backend")

# A shared server
MAX_JOBS = _limit("MAX_JOBS", 2, "runs training at once on the server")
MAX_ACTIVE_PER_VISITOR = _limit("MAX_ACTIVE_PER_VISITOR", 1, "runs training at once per visitor")
MAX_QUEUED_PER_VISITOR = _limit("MAX_QUEUED_PER_VISITOR", 2, "runs waiting per visitor")
MAX_KEPT_JOBS = _limit("MAX_KEPT_JOBS", 20, "finished jobs kept in memory (the run store keeps them all)")
DISCONNECT_GRACE_S = _limit("DISCONNECT_GRACE_S", 60, "seconds a closed tab's runs go on before they are stopped")
