"""One generic registry for data sets, weighting strategies and architectures."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from mtl_core.errors import UnknownNameError

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

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, T] = {}

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
            prefix = f"{key} = {name!r}: " if key else ""
            raise UnknownNameError(prefix + self.unknown_message(name)) from None

    def unknown_message(self, name: str) -> str:
        """The message for a name that is not registered: closest names, then all of them."""
        names = self.names()
        close = difflib.get_close_matches(str(name), names, n=3, cutoff=0.5)
        hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        return f"no {self.kind} named {name!r}.{hint} Available: {', '.join(names)}"

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
