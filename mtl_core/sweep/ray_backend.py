"""The ``ray`` backend: every task a Ray Tune trial, on this machine (``ray.init()``) or a cluster (``address``).

Each trial reserves ``cpus`` and ``gpus`` (Tune's resources per trial), so Ray places it where they are free;
at most ``max_concurrent`` run at once. A trial reports each epoch through ``ray.tune.report`` (the epoch's
validation value of the sweep's metric, for the ASHA scheduler, and the epoch's history entry) and, at the
end, its whole results. The driver's Tune callback turns those into outcomes: workers never touch the run
store. Tune retries a failed trial once (``FailureConfig(max_failures=1)``), a dead worker included. With
``scheduler`` (``Asha`` settings) ASHA stops the trials that lag; they end ``stopped`` with the epochs they
trained. Joining a cluster ships ``mtl_core`` to it (``runtime_env`` ``py_modules``); the cluster's Python
must have the requirements installed.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mtl_core.sweep.backends import ATTEMPTS, OnOutcome, Outcome, StopCheck, SweepError, Task, require

SCORE = "score"  # what Tune compares: the sweep metric's validation value at each epoch
STARTUP: dict[str, float] = {}  # seconds the last ray.init of this process took (docs/scaling.md measures it)


def ensure_ray(address: str | None = None, num_cpus: int | None = None) -> Any:
    """Ray, started on this machine (or joined to the cluster at ``address``) unless this process already is."""
    ray = require("ray", "ray[tune]")
    if ray.is_initialized():
        return ray
    import mtl_core

    started = time.perf_counter()
    try:
        if address:
            package = str(Path(mtl_core.__file__).parent)
            ray.init(address=address, runtime_env={"py_modules": [package]}, logging_level="WARNING")
        else:
            ray.init(num_cpus=num_cpus, include_dashboard=False, logging_level="WARNING")
    except (ConnectionError, RuntimeError, ValueError) as error:
        where = f"the Ray cluster at {address!r}" if address else "a local Ray instance"
        raise SweepError(f"cannot start or join {where}: {type(error).__name__}: {error}") from None
    STARTUP["seconds"] = time.perf_counter() - started
    return ray


def shutdown_started() -> None:
    """Shut down the Ray instance ``ensure_ray`` started or joined in this process (a command line's, at its end)."""
    ray = __import__("sys").modules.get("ray")
    if "seconds" in STARTUP and ray is not None and ray.is_initialized():
        ray.shutdown()
        STARTUP.clear()


def _trial(params: dict[str, Any], configs: Sequence[dict[str, Any]], metrics: Sequence[str | None],
           cpus: float) -> None:
    """One Tune trial (it runs in a Ray worker): train the task's config, reporting every epoch, then the results."""
    from ray import tune

    from mtl_core.sweep.spec import epoch_value
    from mtl_core.sweep.trial import execute
    from mtl_core.train.trainer import pin_threads

    pin_threads(max(1, int(cpus)))
    index, metric = int(params["task"]), metrics[int(params["task"])]
    last: list[float] = [0.0]

    def report(entry: dict[str, Any]) -> None:
        value = epoch_value(entry, metric) if metric else None
        last[0] = value if value is not None else float("inf")
        tune.report({SCORE: last[0], "epoch": entry["epoch"], "entry": json.dumps(entry)})

    results = execute(configs[index], on_epoch=report)
    tune.report({SCORE: last[0], "epoch": results["epochs_run"], "results": json.dumps(results)})


class RayBackend:
    """Ray Tune on this machine or a cluster (see the module docstring)."""

    name = "ray"

    def __init__(self, max_concurrent: int, *, address: str | None = None, cpus: float = 1.0, gpus: float = 0.0,
                 scheduler: Any = None, mode: str = "min") -> None:
        self.max_concurrent, self.address, self.cpus, self.gpus = max(1, max_concurrent), address, cpus, gpus
        self.scheduler, self.mode = scheduler, mode
        require("ray.tune", "ray[tune]")  # said at once, before any trial is built

    def run(self, tasks: Sequence[Task], on_outcome: OnOutcome, should_stop: StopCheck | None = None) -> None:
        """Run the tasks as Tune trials; outcomes come back through the driver's callback as trials end."""
        if not tasks:
            return
        ensure_ray(self.address)
        from ray import tune

        os.environ.setdefault("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "1")  # the run store keeps what matters
        os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
        # without Tune's own loggers its closing analysis finds no result files, and says so for every trial
        logging.getLogger("ray.tune.analysis.experiment_analysis").setLevel(logging.ERROR)
        collector = _collector(tune, tasks, on_outcome)
        trainable = tune.with_resources(
            tune.with_parameters(_trial, configs=[task.config for task in tasks],
                                 metrics=[task.metric for task in tasks], cpus=self.cpus),
            {"cpu": self.cpus, "gpu": self.gpus})
        with tempfile.TemporaryDirectory(prefix="mtl-tune-") as storage:
            tuner = tune.Tuner(
                trainable, param_space={"task": tune.grid_search(list(range(len(tasks))))},
                tune_config=tune.TuneConfig(max_concurrent_trials=self.max_concurrent, scheduler=self._scheduler(tasks),
                                            reuse_actors=True),  # torch is imported once per worker
                run_config=tune.RunConfig(name="sweep", storage_path=storage, verbose=0, callbacks=[collector],
                                          failure_config=tune.FailureConfig(max_failures=ATTEMPTS - 1),
                                          stop=_stopper(tune, should_stop)))
            tuner.fit()
        collector.finish()

    def _scheduler(self, tasks: Sequence[Task]) -> Any:
        if self.scheduler is None:
            return None
        from ray.tune.schedulers import ASHAScheduler

        epochs = max(int(task.config.get("train", {}).get("epochs", 1)) for task in tasks)
        return ASHAScheduler(time_attr="training_iteration", metric=SCORE, mode=self.mode, max_t=epochs + 1,
                             grace_period=self.scheduler.grace_period,
                             reduction_factor=self.scheduler.reduction_factor)


def _stopper(tune: Any, should_stop: StopCheck | None) -> Any:
    """A Tune Stopper that ends the whole run once ``should_stop()`` is true (None without a check)."""
    if should_stop is None:
        return None

    class Cancel(tune.Stopper):  # type: ignore[misc, name-defined]
        def __init__(self, check: StopCheck) -> None:  # no closure: Tune pickles this class
            self.check: StopCheck | None = check

        def __call__(self, trial_id: str, result: dict[str, Any]) -> bool:
            return self.stop_all()

        def stop_all(self) -> bool:
            return self.check is not None and bool(self.check())

        def __getstate__(self) -> dict[str, Any]:  # Tune pickles its settings; the check stays in this process
            return {"check": None}

    return Cancel(should_stop)


def _collector(tune: Any, tasks: Sequence[Task], on_outcome: OnOutcome) -> Any:
    """The driver's Tune callback: keeps each trial's epochs and results, and reports each outcome once."""

    class Collector(tune.Callback):  # type: ignore[misc, name-defined]
        def __init__(self, keys: list[str], sink: OnOutcome) -> None:  # no closure: Tune pickles this class
            self.keys, self.sink = keys, sink
            self.epochs: dict[int, dict[int, dict[str, Any]]] = {}
            self.results: dict[int, dict[str, Any]] = {}
            self.attempts: dict[int, int] = {}
            self.reported: set[int] = set()

        def __getstate__(self) -> dict[str, Any]:  # Tune pickles its settings; the sink (the store) stays here
            return {**self.__dict__, "sink": None}

        def on_trial_result(self, iteration: int, trials: list[Any], trial: Any, result: dict[str, Any],
                            **info: Any) -> None:
            index = int(trial.config["task"])
            if "results" in result:
                self.results[index] = json.loads(result["results"])
            elif "entry" in result:
                entry = json.loads(result["entry"])
                self.epochs.setdefault(index, {})[int(entry["epoch"])] = entry

        def on_trial_recover(self, iteration: int, trials: list[Any], trial: Any, **info: Any) -> None:
            index = int(trial.config["task"])
            self.attempts[index] = self.attempts.get(index, 1) + 1
            self.epochs.pop(index, None)  # it trains again from its first epoch

        def on_trial_complete(self, iteration: int, trials: list[Any], trial: Any, **info: Any) -> None:
            index = int(trial.config["task"])
            if index in self.results:
                self._report(index, "done", self.results[index], "")
            else:
                self._report(index, "stopped", None, _early_stop_reason(len(self._history(index))))

        def on_trial_error(self, iteration: int, trials: list[Any], trial: Any, **info: Any) -> None:
            index = int(trial.config["task"])
            self._report(index, "failed", None, _error_text(trial))

        def finish(self) -> None:
            """After the run: trials that started but never ended (a cancel, Ctrl-C) end ``stopped``."""
            for index in sorted(set(self.epochs) - self.reported):
                self._report(index, "stopped", None, "the sweep was stopped while it trained")

        def _history(self, index: int) -> list[dict[str, Any]]:
            return [entry for _, entry in sorted(self.epochs.get(index, {}).items())]

        def _report(self, index: int, status: Any, results: dict[str, Any] | None, reason: str) -> None:
            if index not in self.reported and self.sink is not None:
                self.reported.add(index)
                self.sink(Outcome(self.keys[index], status, results, reason, self.attempts.get(index, 1),
                                  [] if results is not None else self._history(index)))

    return Collector([task.key for task in tasks], on_outcome)


def _early_stop_reason(epochs: int) -> str:
    return (f"stopped early by the scheduler after {epochs} epoch{'s' if epochs != 1 else ''}: its metric lagged "
            f"behind the other trials' at the same epoch")


def _error_text(trial: Any) -> str:
    """The last line of a failed trial's error: the exception, or the worker's death."""
    error = getattr(trial, "get_error", lambda: None)()
    text = str(error) if error is not None else ""
    if not text and getattr(trial, "error_file", None):
        try:
            text = Path(trial.error_file).read_text(encoding="utf-8", errors="replace")
        except OSError:
            text = ""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    died = any("died" in line.lower() or "actordiederror" in line.lower() for line in lines)
    last = lines[-1] if lines else "the trial failed without a message"
    prefix = "its worker process ended abruptly: " if died else ""
    return prefix + (last if len(last) <= 300 else last[:299] + "…")
