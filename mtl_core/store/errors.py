"""Errors of the run store a user can cause: an unknown run id, a database that cannot be used."""

from __future__ import annotations

from mtl_core.errors import MTLError


class StoreError(MTLError):
    """The run store's database cannot be opened or written: the message names the file and what to do."""


class UnknownRunError(MTLError, LookupError):
    """No stored run (or group) has this id."""
