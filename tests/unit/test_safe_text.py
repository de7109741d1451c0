"""Text from links, uploads and configs is shown as written: Markdown escaped, long values cut."""

from __future__ import annotations

import json
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


def test_a_figure_can_hold_no_link_in_any_of_its_texts() -> None:
    import plotly.graph_objects as go

    from mtl_core import viz
    from mtl_core.safe_text import safe_figure

    name = '<a href="https://x.example">prize</a>'
    rows = [{"epoch": 1, "train_loss": {name: 1.0}, "val_loss": {name: 0.9}, "weights": {}, "metrics": {}}]
    figure = viz.loss_curves(rows)
    texts = json.dumps(figure.to_plotly_json(), default=str)
    assert "<a href" in texts  # what a visitor's task name puts into a legend
    cleaned = safe_figure(figure)
    shown = json.dumps(cleaned.to_plotly_json(), default=str)
    assert isinstance(cleaned, go.Figure) and "<a" not in shown and "</a" not in shown
    assert "prize" in shown and len(cleaned.data) == len(figure.data)
