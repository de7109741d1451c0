"""Choosing the device a run trains on."""

from __future__ import annotations

import torch

from mtl_core.errors import ConfigError


def available_devices() -> list[str]:
    """The devices this machine can train on, best first: cuda, mps, cpu."""
    devices = []
    if torch.cuda.is_available():
        devices.append("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        devices.append("mps")
    return [*devices, "cpu"]


def choose_device(requested: str) -> torch.device:
    """``auto`` takes the best available device; a named one must exist (ConfigError naming train.device)."""
    devices = available_devices()
    if requested == "auto":
        return torch.device(devices[0])
    if requested not in devices:
        raise ConfigError(
            f"train.device = {requested!r} but this machine has no such device; available: {', '.join(devices)}. "
            f"Use \"auto\" to take the best one."
        )
    return torch.device(requested)
