"""Every page runs inside the entry file's navigation, even when a visitor's first request is a deep link.

Streamlit serves a ``pages/`` folder beside the entry file in its older multipage mode until some
script run has called ``st.navigation``: on a freshly started server, a shared link to ``/train``
would run ``pages/train.py`` alone, without the entry file that reads the link and sets up the
navigation. ``through_entry`` notices that and runs the entry file in its place, which then runs
the page the URL names; from then on the server uses the entry file's navigation.
"""

from __future__ import annotations

import runpy
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import streamlit as st

ENTRY = Path(__file__).resolve().parent.parent / "app.py"
_inside = threading.local()  # per script thread: whether the entry file is running the page


@contextmanager
def entering() -> Iterator[None]:
    """The entry file runs the chosen page inside this block."""
    _inside.active = True
    try:
        yield
    finally:
        _inside.active = False


def through_entry() -> None:
    """At the top of each page: when the entry file is not running us, run it instead, then stop."""
    if getattr(_inside, "active", False):
        return
    runpy.run_path(str(ENTRY), run_name="__main__")
    st.stop()
