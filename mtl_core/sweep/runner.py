"""A sweep's course: its trials out to a backend, each outcome recorded as it comes back, a summary at the end.

The driver (the CLI, or a dashboard job) is the only writer of the run store: ``on_run(label, results)``
stores each trial as it ends (``RunStore.group_recorder`` under the sweep's group), workers only train.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeAlias

from mtl_core.sweep.backends import Backend, Outcome, StopCheck, Task
from mtl_core.sweep.spec import SweepSpec, Trial, best_index, metric_value

OnRun: TypeAlias = Callable[[str, Any], Any]  # (label, results dict) as each trial ends: e.g. to store it
Progress: TypeAlias = Callable[[int, int, str], None]  # (trials ended, trials, label of the last one)
NOT_RUN = "not run"


def run_sweep(spec: SweepSpec, trials: Sequence[Trial], backend: Backend, *, on_run: OnRun | None = None,
              on_progress: Progress | None = None, should_stop: StopCheck | None = None) -> dict[str, Any]:
    """Train every trial on the backend and return the sweep's summary (see ``sweep_summary``)."""
    started = time.perf_counter()
    outcomes: dict[int, Outcome] = {}
    if on_progress is not None:
        on_progress(0, len(trials), "starting")

    def record(outcome: Outcome) -> None:
        trial = trials[int(outcome.key)]
        outcomes[trial.index] = outcome
        if on_run is not None:
            on_run(trial.label, trial_results(trial, outcome))
        if on_progress is not None:
            on_progress(len(outcomes), len(trials), f"{trial.label}: {status_of(outcome)}")

    tasks = [Task(str(trial.index), trial.config, spec.metric) for trial in trials]
    interrupted = False
    try:
        backend.run(tasks, record, should_stop)
    except KeyboardInterrupt:
        interrupted = True
    stopped = interrupted or (should_stop is not None and should_stop()) or len(outcomes) < len(trials)
    summary = sweep_summary(spec, trials, outcomes, backend, time.perf_counter() - started, stopped)
    if interrupted:
        summary["notes"].append("stopped from the keyboard (Ctrl-C); the trials that ended are kept")
    return summary


def status_of(outcome: Outcome) -> str:
    """The trial's status in the store: its run's (completed, diverged, stopped) or ``failed``."""
    if outcome.status == "failed":
        return "failed"
    return str(outcome.results["status"]) if outcome.results is not None else "stopped"


def trial_results(trial: Trial, outcome: Outcome) -> dict[str, Any]:
    """The RESULTS.json dict stored for a trial: the run's own, or one for a trial that failed or was stopped
    by a scheduler (no final metrics; the epochs it trained)."""
    if outcome.results is not None:
        return outcome.results
    history = sorted(outcome.history, key=lambda entry: entry["epoch"])
    return {"config": trial.config, "status": status_of(outcome), "reason": outcome.reason,
            "epochs_run": len(history), "duration_s": float(history[-1].get("elapsed_s", 0.0)) if history else 0.0,
            "metrics": {"val": {}, "test": {}}, "history": history, "predictions": {}}


def sweep_summary(spec: SweepSpec, trials: Sequence[Trial], outcomes: Mapping[int, Outcome], backend: Backend,
                  duration_s: float, stopped: bool) -> dict[str, Any]:
    """JSON-ready: ``status``, ``metric`` (name, mode), ``backend``, ``duration_s``, ``keys`` (the swept keys),
    ``trials`` (index, label, params, seed, status, reason, value, attempts, duration_s, epochs_run), ``best``
    (the best trial's entry, None without one), ``notes``, ``config`` (the first trial's)."""
    rows = [_row(spec, trial, outcomes.get(trial.index)) for trial in trials]
    best = best_index([row["value"] for row in rows], spec.mode)
    failed = [row for row in rows if row["status"] == "failed"]
    notes = [f"{len(failed)} trial{'s' if len(failed) != 1 else ''} failed twice and {'were' if len(failed) != 1 else 'was'} "
             f"recorded as failed: " + "; ".join(f"#{row['index']} {row['reason']}" for row in failed[:5])] if failed else []
    keys = list(dict.fromkeys([*spec.grid, *spec.random]))
    return {"status": "stopped" if stopped else "completed", "metric": {"name": spec.metric, "mode": spec.mode},
            "backend": {"name": backend.name, "max_concurrent": backend.max_concurrent},
            "duration_s": duration_s, "keys": keys, "trials": rows,
            "best": rows[best] if best is not None else None, "notes": notes,
            "config": trials[0].config if trials else {}}


def _row(spec: SweepSpec, trial: Trial, outcome: Outcome | None) -> dict[str, Any]:
    results = trial_results(trial, outcome) if outcome is not None else None
    return {"index": trial.index, "label": trial.label, "params": trial.params, "seed": trial.seed,
            "status": status_of(outcome) if outcome is not None else NOT_RUN,
            "reason": outcome.reason if outcome is not None else "",
            # only a completed run's metric counts: a stopped one was evaluated part-way
            "value": metric_value(results, spec.metric) if results is not None and results["status"] == "completed"
            else None,
            "attempts": outcome.attempts if outcome is not None else 0,
            "duration_s": results["duration_s"] if results is not None else None,
            "epochs_run": results["epochs_run"] if results is not None else 0}
