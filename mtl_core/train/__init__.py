"""The train stage: Trainer (a generator of events), evaluation, metrics, device choice."""

from mtl_core.train.device import available_devices, choose_device
from mtl_core.train.events import EpochEnded, Event, RunEnded, RunStarted
from mtl_core.train.trainer import Trainer

__all__ = ["EpochEnded", "Event", "RunEnded", "RunStarted", "Trainer", "available_devices", "choose_device"]
