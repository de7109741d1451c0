"""Sweeps: a base config, the keys to vary (grid lists, random draws) over seeds, the metric to optimise; every
trial trained on a backend (``local`` processes or Ray Tune) and stored as one group of the run store.

``load_sweep(path)`` reads and validates a sweep file, ``expand(spec, base)`` builds (and checks) every trial's
config, ``make_backend(name, ...)`` picks where they train and ``run_sweep(spec, trials, backend)`` trains them and
returns the summary. ``python -m mtl_core sweep SWEEP`` does all four. Ray is imported only by the ray backend.
"""

from mtl_core.sweep.backends import BACKENDS, Backend, LocalBackend, Outcome, SweepError, Task, make_backend
from mtl_core.sweep.runner import run_sweep, trial_results
from mtl_core.sweep.spec import SweepSpec, Trial, count_trials, expand, load_sweep, metric_value, parse_sweep

__all__ = [
    "BACKENDS", "Backend", "LocalBackend", "Outcome", "SweepError", "SweepSpec", "Task", "Trial", "count_trials",
    "expand", "load_sweep", "make_backend", "metric_value", "parse_sweep", "run_sweep", "trial_results",
]
