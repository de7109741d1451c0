"""MTL Lab's engine: data, tasks, models, weighting strategies and a trainer that yields events.

Nothing here imports Streamlit; the dashboard and the CLI are consumers of the same functions.
"""

__version__ = "0.1.0"

import gc
import importlib
import threading

_warming = threading.Lock()
_warmed: threading.Thread | None = None


def warm_up() -> threading.Thread:
    """Import the heavy parts (PyTorch, the trainer, the figures) once, on a background thread.

    The dashboard calls this after drawing its first page, so the page appears before PyTorch has
    loaded and the Train page is ready by the time a user opens it. Returns the (already started)
    thread; later calls return the same one.
    """
    global _warmed
    with _warming:
        if _warmed is None:
            _warmed = threading.Thread(target=_warm, name="mtl-warm-up", daemon=True)
            _warmed.start()
        return _warmed


def _warm() -> None:
    """Import, then hide what is loaded from the cyclic garbage collector.

    A long-lived server holds about half a million objects once PyTorch, pandas, plotly and the page
    server are imported, and every full collection walked them all: about 0.3 s, every few training
    runs, while a run was training beside it. ``gc.freeze`` moves them to a generation the collector
    never scans (they live as long as the process anyway); everything made later is collected as before.
    """
    importlib.import_module("mtl_core.jobs")
    importlib.import_module("mtl_core.viz")
    gc.collect()
    gc.freeze()
