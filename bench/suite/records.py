"""Measurement records (one per number the suite measures) and the machine they were taken on."""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any

import torch

FIELDS = ("name", "parameters", "value", "unit", "baseline", "ratio", "machine")


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo, else what ``platform`` knows."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def machine(device: str = "cpu") -> dict[str, Any]:
    """CPU model, cores this process may use, torch threads, torch version, device."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {"cpu": cpu_model(), "cores": cores, "threads": torch.get_num_threads(), "torch": torch.__version__,
            "device": device, "python": platform.python_version()}


def machine_text(info: dict[str, Any]) -> str:
    return (f"{info['cpu']}, {info['cores']} core(s) available, {info['threads']} torch thread(s), "
            f"torch {info['torch']}, Python {info['python']}, device {info['device']}")


def record(name: str, parameters: dict[str, Any], value: float | None, unit: str, baseline: float | None = None,
           ratio: float | None = None, device: str = "cpu") -> dict[str, Any]:
    """One measurement; ``ratio`` defaults to value / baseline when both are numbers."""
    if ratio is None and value is not None and baseline:
        ratio = value / baseline
    return {"name": name, "parameters": parameters, "value": value, "unit": unit, "baseline": baseline,
            "ratio": ratio, "machine": machine(device)}
