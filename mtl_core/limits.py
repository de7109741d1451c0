"""Limits on what a user may load, set in one place and quoted in the errors that enforce them."""

from __future__ import annotations

MAX_UPLOAD_MB = 50  # also server.maxUploadSize in .streamlit/config.toml
MAX_ROWS = 1_000_000
MIN_ROWS = 10  # fewer cannot be split into training, validation and test rows
MAX_COLUMNS = 2_000
MAX_CLASSES = 1_000  # per classification task
MAX_IMAGES = 100_000
MAX_IMAGE_SIDE = 512  # pixels, after resizing
MAX_ABS_VALUE = 1e30  # larger magnitudes overflow the standardisation's variance in float64 and float32
