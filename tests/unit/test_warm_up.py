"""mtl_core.warm_up: the heavy imports on a background thread, then the loaded heap hidden from full collections."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import gc, sys
import mtl_core
assert "torch" not in sys.modules, "importing mtl_core alone must stay light"
thread = mtl_core.warm_up()
assert mtl_core.warm_up() is thread, "one warm-up per process"
thread.join(120)
print("torch" in sys.modules, "plotly" in sys.modules, gc.get_freeze_count() > 100_000)
"""


def test_warm_up_imports_the_engine_and_freezes_what_it_loaded() -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "True", "True"]
