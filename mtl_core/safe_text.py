"""Text from a link, an upload or a config file, made safe to show in Markdown: shown as written, never run.

Streamlit renders Markdown (links, images, colours, LaTeX, emoji, directives such as ``:red[...]``), so a
task name like ``[win](https://x.example)`` or ``![](https://x.example/pixel.png)`` would become a link or an
image the browser fetches. ``plain`` escapes every character Markdown gives a meaning to and shortens
the text; the engine's messages are passed through it by the pages before they are shown.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

F = TypeVar("F", bound=Any)  # a plotly Figure (plotly is not imported here: the Home page loads this module)

MAX_SHOWN = 200  # characters of one value shown; more is cut with an ellipsis
_SPECIAL = re.compile(r"([\\`*_\[\]<>$~|!@])")  # emphasis, code, links, images, HTML, formulas, tables, emails
_LINE_START = re.compile(r"^(\s*)([#>+=-]|\d+[.)])", re.MULTILINE)  # headings, quotes, lists, rules at a line's start
_AUTOLINK = re.compile(r"(?i)(://|www\.)")  # bare addresses that GitHub-flavoured Markdown turns into links


def shorten(text: object, limit: int | None = MAX_SHOWN) -> str:
    """The text cut to ``limit`` characters (an ellipsis marks the cut); None: whole.

    >>> shorten("x" * 300)[-3:], len(shorten("x" * 300))
    ('xx…', 200)
    """
    value = str(text)
    if limit is None or len(value) <= limit:
        return value
    return value[: limit - 1] + "…"


def plain(text: object, limit: int | None = MAX_SHOWN) -> str:
    """``text`` escaped for Markdown (and shortened): it shows as written, with no link, image, colour or formula.

    Line breaks stay line breaks; every other control character is dropped.

    >>> print(plain("[win](https://x.example) :red[alarm] $x$ www.x.example - a.b"))
    \\[win\\](https:\\/\\/x.example) :red\\[alarm\\] \\$x\\$ www\\.x.example - a.b
    """
    value = shorten(text, limit)
    value = "".join(char for char in value if char in "\n\t" or char.isprintable())
    value = _SPECIAL.sub(r"\\\1", value)
    value = _AUTOLINK.sub(lambda found: found.group(1).replace("/", "\\/").replace(".", "\\."), value)
    return _LINE_START.sub(lambda found: found.group(1) + _escaped_marker(found.group(2)), value)


def _escaped_marker(marker: str) -> str:
    """``-`` → ``\\-``; ``12.`` → ``12\\.`` (a backslash escapes punctuation only)."""
    return marker[:-1] + "\\" + marker[-1]


def message(error: object) -> str:
    """An error's message for ``st.error``/``st.warning``: escaped, whole (the engine shortens the values in it)."""
    return plain(error, limit=2_000)


_PLOTLY_LINK = re.compile(r"<(\s*/?\s*a\b)", re.IGNORECASE)  # plotly draws <a href=...> in any text as a link


def unlinked(value: Any) -> Any:
    """Every string in a nested figure description with its ``<a ...>`` tags shown as text (``&lt;a``)."""
    if isinstance(value, str):
        return _PLOTLY_LINK.sub(r"&lt;\1", value)
    if isinstance(value, dict):
        return {key: unlinked(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(unlinked(item) for item in value)
    return value


def safe_figure(figure: F) -> F:
    """A plotly figure whose texts (titles, legends, ticks, hover, annotations) can hold no link.

    Task names, class labels and run labels come from visitors' tables and links; plotly renders a small set
    of HTML tags in text, ``<a href>`` among them, so a name like ``<a href="https://x.example">prize</a>``
    would become a link in a legend. Other tags plotly knows (``<b>``, ``<br>``) do no harm and stay.
    """
    cleaned = unlinked(figure.to_plotly_json())
    return type(figure)(cleaned)  # type: ignore[call-arg]
