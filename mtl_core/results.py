"""The results of one run (RESULTS.json) as a typed value: ``RunResults``. Plain Python, no PyTorch, so pages can
read it.

``to_dict()`` gives the RESULTS.json structure, key for key, and ``from_dict()`` reads it back (a file written
before a key existed gets that key's empty value). Readers not yet moved to the attributes may still read it by
key, as a read-only mapping: ``results["status"]`` is ``results.status``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Literal, TypeAlias

from mtl_core.errors import DataError

RunStatus: TypeAlias = Literal["completed", "diverged", "stopped"]
TaskMetrics: TypeAlias = dict[str, dict[str, float | None]]  # {task: {metric: value}}
REQUIRED = ("config", "status", "metrics", "history", "duration_s")  # what every RESULTS.json has held


@dataclass(frozen=True, slots=True)
class RunResults(Mapping[str, Any]):
    """One run: its resolved config, how it ended, its final metrics, its per-epoch history, its test predictions.

    Frozen: a changed value is a new RunResults (``dataclasses.replace``). The nested dicts and lists are shared
    with ``to_dict()``'s, not copied.
    """

    config: dict[str, Any]  # the resolved ExperimentConfig's to_dict()
    status: RunStatus
    reason: str  # why it ended so: an early stop, the loss that diverged, a stop by the user; "" when it completed
    epochs_run: int
    duration_s: float
    metrics: dict[str, TaskMetrics]  # {"val": ..., "test": ...}: the evaluated model's; empty when it diverged
    history: list[dict[str, Any]]  # one entry per epoch: an EpochEnded event's values
    predictions: dict[str, dict[str, Any]] = field(default_factory=dict)  # test split, per task
    best_epoch: int | None = None  # the selected epoch with train.select, else None
    best_value: float | None = None  # its watched value
    run: dict[str, Any] = field(default_factory=dict)  # the RunStarted event's values: sizes, device, strategy
    environment: dict[str, str] = field(default_factory=dict)  # torch and Python versions
    # train.diagnostics: one record per epoch (mtl_core.train.diagnostics); the key is written only when there are
    diagnostics: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The RESULTS.json structure, in its key order.

        >>> RunResults({}, "completed", "", 0, 0.5, {"val": {}, "test": {}}, []).to_dict()["duration_s"]
        0.5
        """
        return {name: getattr(self, name) for name in self._keys()}

    def _keys(self) -> tuple[str, ...]:
        return _KEYS if self.diagnostics else _KEYS[:-1]

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> RunResults:
        """A RESULTS.json structure read back; DataError naming the keys it lacks.

        >>> RunResults.from_dict({"status": "completed"})
        Traceback (most recent call last):
        ...
        mtl_core.errors.DataError: results lack config, metrics, history, duration_s: this is not a RESULTS.json \
written by python -m mtl_core run
        """
        missing = [key for key in REQUIRED if key not in values]
        if missing:
            raise DataError(f"results lack {', '.join(missing)}: this is not a RESULTS.json written by "
                            f"python -m mtl_core run")
        known = {key: values[key] for key in _KEYS if key in values}
        return cls(**{"reason": "", "epochs_run": len(values["history"]), **known})

    def __getitem__(self, key: str) -> Any:
        if key not in self._keys():
            raise KeyError(key)
        return getattr(self, key)

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys())

    def __len__(self) -> int:
        return len(self._keys())


_KEYS: tuple[str, ...] = tuple(entry.name for entry in fields(RunResults))
