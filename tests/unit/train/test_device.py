"""Choosing the device: auto takes the best available; a named one must exist."""

from __future__ import annotations

import pytest
import torch

from mtl_core.errors import ConfigError
from mtl_core.train import available_devices, choose_device


def test_the_cpu_is_always_available_and_listed_last() -> None:
    assert available_devices()[-1] == "cpu"


def test_auto_takes_the_first_available_device() -> None:
    assert choose_device("auto") == torch.device(available_devices()[0])


def test_the_cpu_can_be_named() -> None:
    assert choose_device("cpu") == torch.device("cpu")


def test_a_device_this_machine_lacks_names_train_device_and_the_choices() -> None:
    missing = next((name for name in ("cuda", "mps") if name not in available_devices()), None)
    if missing is None:
        pytest.skip("this machine has every device")
    with pytest.raises(ConfigError) as caught:
        choose_device(missing)
    assert str(caught.value).startswith(f"train.device = {missing!r}") and '"auto"' in str(caught.value)
