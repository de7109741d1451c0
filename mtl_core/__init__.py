"""MTL Lab's engine: data, tasks, models, weighting strategies and a trainer that yields events.

Nothing here imports Streamlit; the dashboard and the CLI are consumers of the same functions.
"""

__version__ = "0.1.0"

import importlib
import threading

_warming = threading.Lock()
_warmed = False


def warm_up() -> None:
    """Import the heavy parts (PyTorch, the trainer) once, on a background thread.

    The dashboard calls this after drawing its first page, so the page appears before PyTorch has
    loaded and the Train page is ready by the time a user opens it.
    """
    global _warmed
    with _warming:
        if _warmed:
            return
        _warmed = True
    threading.Thread(target=importlib.import_module, args=("mtl_core.jobs",), name="mtl-warm-up", daemon=True).start()
