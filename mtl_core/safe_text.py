"""Text from a link, an upload or a config file, made safe to show in Markdown: shown as written, never run.

Streamlit renders Markdown (links, images, colours, LaTeX, emoji, directives such as ``:red[...]``), so a
task name like ``[win](https://x.example)`` or ``![](https://x.example/pixel.png)`` would become a link or an
image the browser fetches. ``plain`` escapes every character Markdown gives a meaning to and shortens
the text; the engine's messages are passed through it by the pages before they are shown.
"""

from __future__ import annotations

import re

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
