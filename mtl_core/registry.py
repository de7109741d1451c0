"""One generic registry for data sets, weighting strategies and architectures.

Each of the three offers the same calls on top of it: ``available()``, ``create(name, **hparams)`` and
``describe(name=None)``. An entry's hyper-parameters are the keyword arguments of one callable (the
class itself, or a data set's ``load``), checked and described by ``mtl_core.settings``.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Generic, TypeVar

from mtl_core import settings
from mtl_core.errors import UnknownNameError
from mtl_core.safe_text import shorten

T = TypeVar("T")


class Registry(Generic[T]):
    """Maps lower-case names to objects (classes or factories); unknown names get a 'Did you mean'.

    >>> colours = Registry[int]("colour")
    >>> _ = colours.register("red")(1)
    >>> colours.get("red")
    1
    >>> colours.get("rde")
    Traceback (most recent call last):
    ...
    mtl_core.errors.UnknownNameError: no colour named 'rde'. Did you mean 'red'? Available: red
    """

    def __init__(self, kind: str, settings_of: Callable[[T], Callable[..., Any]] | None = None) -> None:
        """``settings_of`` gives the callable whose keywords are an entry's hyper-parameters (default: the entry)."""
        self.kind = kind
        self._entries: dict[str, T] = {}
        self._settings_of = settings_of

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator that stores its target under ``name``; a name may be registered once."""

        def decorate(entry: T) -> T:
            if name in self._entries:
                raise ValueError(f"{self.kind} '{name}' is registered twice")
            self._entries[name] = entry
            return entry

        return decorate

    def get(self, name: str, key: str | None = None) -> T:
        """Return the entry called ``name`` or raise UnknownNameError with suggestions.

        ``key`` is the setting the name came from (``data.dataset``); the message then starts with it.
        """
        try:
            return self._entries[name]
        except KeyError:
            prefix = f"{key} = {shorten(repr(name))}: " if key else ""
            raise UnknownNameError(prefix + self.unknown_message(name)) from None

    def unknown_message(self, name: str) -> str:
        """The message for a name that is not registered: closest names, then all of them."""
        names = self.names()
        close = difflib.get_close_matches(str(name)[:200], names, n=3, cutoff=0.5)
        hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        return f"no {self.kind} named {shorten(repr(name))}.{hint} Available: {', '.join(names)}"

    def available(self) -> list[str]:
        """All registered names, sorted (as ``names``; the name the three registries' modules export)."""
        return self.names()

    def settings_target(self, name: str, key: str | None = None) -> Callable[..., Any]:
        """The callable whose annotated keyword arguments are the hyper-parameters of ``name``."""
        entry = self.get(name, key)
        if self._settings_of is not None:
            return self._settings_of(entry)
        assert callable(entry), f"{self.kind} {name!r} is not callable; give the registry settings_of"
        return entry

    def validate(self, name: str, values: Mapping[str, Any], prefix: str, *,
                 common: Sequence[str] = ()) -> dict[str, Any]:
        """The validated hyper-parameters of ``name``; ConfigError names ``<prefix>.<key>`` (``settings.validate``)."""
        return settings.validate(self.settings_target(name), values, prefix, f"{self.kind} {name!r}", common=common)

    def schema(self, name: str) -> dict[str, Any]:
        """The JSON schema of the hyper-parameters of ``name``, for a form."""
        return settings.describe(self.settings_target(name))

    def unregister(self, name: str) -> None:
        """Remove an entry (for tests and plug-ins that register temporarily)."""
        self._entries.pop(name, None)

    def names(self) -> list[str]:
        """All registered names, sorted."""
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._entries)
