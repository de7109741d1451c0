"""A link's words are shown as written: no link, image, colour or formula from a share link reaches the page."""

from __future__ import annotations

import re

from tests.app.conftest import open_app

ACTIVE = re.compile(r"(?<!\\)(\]\(|!\[|:red\[|\$\$?\w)")
PAYLOADS = {
    "tasks.0.name": "![p](https://x.example/pixel.png)", "tasks.0.column": "progression",
    "tasks.1.name": "[win a prize](https://x.example)", "tasks.1.column": "high_progression",
    "tasks.1.kind": "binary",
    "zz[click](https://x.example)": "1", "train.optimizer": ":red[adam]", "strategy.name": "$x^2$",
}


def shown_texts(at: object) -> list[str]:
    texts: list[str] = []
    for kind in ("markdown", "caption", "warning", "error", "info", "success"):
        texts += [str(item.value) for item in getattr(at, kind)]
    return texts


def test_a_link_full_of_markdown_shows_it_as_text_on_every_page() -> None:
    for page in ("pages/home.py", "pages/data.py", "pages/train.py", "pages/compare.py", "pages/runs.py"):
        at = open_app(page, query=PAYLOADS)
        assert not at.exception, [item.value for item in at.exception]
        texts = shown_texts(at)
        assert any("Shared link" in text for text in texts), page
        bad = [text for text in texts if ACTIVE.search(text)]
        assert not bad, (page, bad)
