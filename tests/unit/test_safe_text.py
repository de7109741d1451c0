"""Text from links, uploads and configs is shown as written: Markdown escaped, long values cut."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from mtl_core.safe_text import MAX_SHOWN, message, plain, shorten

ACTIVE = re.compile(r"(?<!\\)(\]\(|!\[|:\w+\[|\$|<[a-z/]|(?<![\\/])https?://|\bwww\.)")  # a link, an image, a directive, ...


def test_links_images_colours_formulas_and_html_are_escaped() -> None:
    for payload in ("[win](https://x.example)", "![](https://x.example/p.png)", ":red[alarm]", "$x^2$",
                    "<img src=x onerror=alert(1)>", "https://x.example", "**bold** _it_ `code`", ":material/home:"):
        assert not ACTIVE.search(plain(payload)), plain(payload)


def test_a_long_value_is_cut_and_control_characters_dropped() -> None:
    assert len(shorten("x" * 1_000)) == MAX_SHOWN and shorten("abc") == "abc"
    assert plain("a\x1b[31mb\x00c") == "a\\[31mbc"
    assert plain("- item\n12. x") == "\\- item\n12\\. x"  # a list item would be drawn as one
    assert len(message("y" * 5_000)) <= 2_000


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_no_text_gets_an_active_markdown_construct(text: str) -> None:
    assert not ACTIVE.search(plain(text, limit=None))
