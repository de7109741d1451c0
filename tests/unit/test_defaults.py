"""The settings a new user gets give a sensible model: the defaults on diabetes, the data set they open on."""

from __future__ import annotations

from mtl_core.config import ExperimentConfig
from mtl_core.experiment import run_to_results

# The best test r2 of progression over the grid of lr × hidden × weight decay in docs/defaults.md
# (mean of train.seed 0 and 1; written by `python -m bench.defaults`).
BEST_DIABETES_R2 = 0.550


def test_the_default_config_on_diabetes_is_within_ten_percent_of_the_best_grid_point() -> None:
    config = ExperimentConfig()
    assert config.data.source == "diabetes" and config.train.epochs == 100  # `mtl_core run` with an empty file
    results = run_to_results(config.with_overrides(["train.device=cpu", "train.threads=1"]))  # one core: seconds
    assert results["status"] == "completed"
    assert results["metrics"]["test"]["progression"]["r2"] >= 0.9 * BEST_DIABETES_R2
