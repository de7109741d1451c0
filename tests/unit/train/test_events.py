"""Events are frozen plain values whose to_dict carries their type."""

from __future__ import annotations

import dataclasses
import json

import pytest

from mtl_core.train import EpochEnded, RunEnded, RunStarted


def test_each_event_serialises_with_its_type() -> None:
    started = RunStarted(("a",), 3, 10, 2, 2, 99, "cpu", "equal")
    epoch = EpochEnded(1, {"a": 0.5}, {}, {"a": 1.0}, {}, 0.1, 0.2)
    ended = RunEnded("completed", "", 3, 1.0)
    assert [event.to_dict()["type"] for event in (started, epoch, ended)] == ["run_started", "epoch_ended", "run_ended"]
    assert json.loads(json.dumps(epoch.to_dict()))["train_loss"] == {"a": 0.5}
    assert ended.to_dict()["metrics"] == {} and ended.to_dict()["predictions"] == {}


def test_events_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        RunEnded("completed", "", 3, 1.0).status = "diverged"  # type: ignore[misc]
