"""The train stage: Trainer (a generator of events) and the one training loop, which also trains runs that differ
only in ``train.seed`` together; evaluation, metrics, device choice."""

from mtl_core.train.device import available_devices, choose_device
from mtl_core.train.events import EpochEnded, Event, RunEnded, RunStarted
from mtl_core.train.seeds import together_reason
from mtl_core.train.trainer import Trainer, train_together

__all__ = [
    "EpochEnded", "Event", "RunEnded", "RunStarted", "Trainer", "available_devices", "choose_device",
    "together_reason", "train_together",
]
