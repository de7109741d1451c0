"""The catalogue that ``list`` prints is the registries' names, and printing it does not load PyTorch."""

from __future__ import annotations

import subprocess
import sys

import pytest

from mtl_core import catalogue
from mtl_core.data import DATASETS
from mtl_core.models import ARCHITECTURES
from mtl_core.weighting import STRATEGIES


def test_the_catalogue_names_what_the_registries_hold() -> None:
    assert list(catalogue.DATASETS) == DATASETS.names()
    assert list(catalogue.STRATEGIES) == STRATEGIES.names()
    assert list(catalogue.ARCHITECTURES) == ARCHITECTURES.names()


@pytest.mark.parametrize("what", sorted(catalogue.NAMES))
def test_list_answers_without_importing_the_engine(what: str) -> None:
    probe = ("import sys; from mtl_core.cli import main; main(['list', %r]); "
             "heavy = sorted(m for m in ('torch', 'sklearn', 'pandas', 'scipy') if m in sys.modules); "
             "print('loaded:', ','.join(heavy))" % what)
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.splitlines()
    assert out[:-1] == list(catalogue.NAMES[what])
    assert out[-1] == "loaded: "
