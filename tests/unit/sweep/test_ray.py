"""The ray backend on one local Ray instance (started once for this module): a sweep's numbers equal its trials
run one by one; faults end failed with reasons while the others complete; ASHA stops a trial that lags."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mtl_core.sweep import Outcome, Task
from mtl_core.sweep.ray_backend import RayBackend
from mtl_core.sweep.spec import Asha
from mtl_core.sweep.trial import FAULTS_VARIABLE
from tests.unit.sweep.helpers import METRIC, Collected, numbers, one_by_one, tiny_spec

ray = pytest.importorskip("ray", reason="ray is not installed (pip install -r requirements-scale.txt)")
pytest.importorskip("ray.tune", reason="ray[tune] is not installed (pip install -r requirements-scale.txt)")


@pytest.fixture(scope="module", autouse=True)
def local_ray() -> Iterator[None]:
    """One small Ray instance for the module: 2 CPUs, an 80 MB object store, no dashboard; the test-only fault
    variable reaches its workers through the job's environment."""
    ray.init(num_cpus=2, object_store_memory=80 * 1024**2, include_dashboard=False, logging_level="ERROR",
             runtime_env={"env_vars": {FAULTS_VARIABLE: "raise=901,exit=902"}})
    yield
    ray.shutdown()


def test_eight_trials_on_ray_equal_their_configs_run_one_by_one_and_faulty_trials_end_failed() -> None:
    spec, trials = tiny_spec(seeds=2, grid={"strategy.name": ["equal", "dwa"], "model.hidden": [[4], [6]]})
    _, faulty = tiny_spec(seeds=[901, 902])  # one raises, one's worker process exits at once
    assert len(trials) == 8
    collected = Collected()
    tasks = [Task(str(trial.index), trial.config, spec.metric) for trial in trials]
    RayBackend(2).run([*tasks, *(Task(f"fault-{trial.seed}", trial.config) for trial in faulty)], collected)
    outcomes = collected.outcomes
    for trial, expected in zip(trials, one_by_one(trials), strict=True):
        outcome = outcomes[str(trial.index)]
        assert outcome.status == "done" and outcome.results is not None, outcome.reason
        assert numbers(outcome.results) == numbers(expected), trial.label
    assert outcomes["fault-901"].status == "failed" and "fault injected for train.seed 901" in outcomes["fault-901"].reason
    assert outcomes["fault-902"].status == "failed" and outcomes["fault-902"].reason
    assert outcomes["fault-901"].attempts == outcomes["fault-902"].attempts == 2  # tried once more first


def test_asha_stops_a_trial_with_a_hopeless_learning_rate_early() -> None:
    _, trials = tiny_spec(epochs=4, grid={"train.lr": [0.05, 1e-6]})
    collected = Collected()
    backend = RayBackend(1, scheduler=Asha(grace_period=1, reduction_factor=2), mode="min")  # the good trial first
    backend.run([Task(str(trial.index), trial.config, METRIC) for trial in trials], collected)
    hopeless: Outcome = collected.outcomes["1"]
    assert hopeless.status == "stopped" and "scheduler" in hopeless.reason
    assert 1 <= len(hopeless.history) < 4 and hopeless.results is None
    assert collected.outcomes["0"].status == "done"
