"""Errors a user can cause. The CLI prints them and exits 2; pages show them with ``st.error``."""

from __future__ import annotations


class MTLError(Exception):
    """Base of every error that a user's input or setting can cause."""


class ConfigError(MTLError, ValueError):
    """A setting is missing, of the wrong type, or out of range; the message names its key."""


class DataError(MTLError, ValueError):
    """A data source cannot be read or does not fit the tasks; the message names the column or file."""


class UnknownNameError(ConfigError):
    """A registry was asked for a name it does not hold; the message suggests the closest names."""


class UnknownJobError(MTLError, LookupError):
    """A job id that this process never issued, or one forgotten since."""


class WriteError(MTLError, OSError):
    """A file or folder cannot be written (no permission, a full disk, a file-size limit); the message names it."""
