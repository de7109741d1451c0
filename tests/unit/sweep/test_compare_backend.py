"""compare and pareto on a backend: the same runs, each (method, seed) a task, the same per-seed numbers."""

from __future__ import annotations

from collections.abc import Sequence

from mtl_core.compare import compare
from mtl_core.config import ExperimentConfig
from mtl_core.sweep import Outcome, Task
from mtl_core.sweep.backends import OnOutcome, StopCheck
from mtl_core.sweep.trial import execute

SMALL = ExperimentConfig.from_dict({"data": {"dataset": "diabetes"}, "model": {"hidden": [4]},
                                    "train": {"epochs": 2}})


class InProcess:
    """A backend that trains each task here, last first (outcomes come back in any order)."""

    name, max_concurrent = "in-process", 1

    def __init__(self) -> None:
        self.keys: list[str] = []

    def run(self, tasks: Sequence[Task], on_outcome: OnOutcome, should_stop: StopCheck | None = None) -> None:
        for task in reversed(tasks):
            self.keys.append(task.key)
            on_outcome(Outcome(task.key, "done", execute(task.config, should_stop)))


def test_a_comparison_on_a_backend_has_the_per_seed_numbers_of_one_in_this_process() -> None:
    backend = InProcess()
    stored: list[str] = []
    on_backend = compare(SMALL, 2, on_run=lambda method, results: stored.append(method), backend=backend)
    here = compare(SMALL, 2)
    assert len(backend.keys) == 4 and sorted(stored) == ["equal", "equal", "stl", "stl"]
    for task, block in here["tasks"].items():
        for method, results in block["results"].items():
            assert on_backend["tasks"][task]["results"][method]["values"] == results["values"], (task, method)
    assert [run["seed"] for run in on_backend["runs"]] == [run["seed"] for run in here["runs"]]
