"""Links with values the widgets could not show open every page without an exception, the widgets showing the
clamped values (AppTest from the entry file)."""

from __future__ import annotations

import pytest

from mtl_core import limits
from tests.app.conftest import open_app

DEEP = "[" * 500 + "]" * 500
CRASH_LINKS: list[dict[str, str]] = [
    {"train.lr": "11"},
    {"train.lr": "1e-7"},
    {"train.batch_size": "2000000"},
    {"train.seed": str(2**31)},
    {"train.epochs": "100000"},
    {"train.select": "val_loss", "train.patience": "100000000"},
    {"train.weight_decay": "1e300", "train.clip_grad_norm": "1e300"},
    {"data.test_size": "0.9999999999"},
    {"data.split_seed": "9" * 20},
    {"model.hidden": "[20000, 20000]"},
    {"model.hidden": "[100000, 100000, 100000]"},
    {"model.trunk": "cnn", "model.channels": "[100000]", "model.blocks": "99"},
    {"strategy.name": "pcgrad", "strategy.seed": "9" * 25},
    {"strategy.name": "gradnorm", "strategy.alpha": "1e308"},
    {"model.architecture": "mmoe", "model.n_experts": "1e300"},
    {"data.params.x": DEEP, "model.hidden": DEEP, "strategy.weights": DEEP, "train.lr": DEEP},
    {"compare.seeds": "1e30", "compare.points": "-1e30", "train.epochs": "1000"},
]
PAGES = ["pages/train.py", "pages/data.py", "pages/compare.py"]


@pytest.mark.parametrize("query", CRASH_LINKS,
                         ids=[" ".join(f"{key}={value[:12]}" for key, value in q.items()) for q in CRASH_LINKS])
def test_a_link_the_widgets_cannot_show_opens_every_page_without_an_exception(query: dict[str, str]) -> None:
    at = open_app(None, query)  # the Home page; open_app asserts no exception
    for page in PAGES:
        at.switch_page(page).run()
        assert not at.exception, (page, [item.value for item in at.exception])


def test_the_widgets_show_the_clamped_values() -> None:
    at = open_app("pages/train.py", {"train.epochs": "5000", "train.batch_size": "2000000", "train.lr": "1e-7",
                                      "train.seed": str(2**40)})
    assert at.number_input(key="train.epochs").value == limits.MAX_EPOCHS
    assert at.number_input(key="train.batch_size").value == limits.MAX_BATCH_SIZE
    assert at.number_input(key="train.lr").value == pytest.approx(1e-6)
    assert at.number_input(key="train.seed").value == limits.MAX_SEED
    shown = " ".join(str(item.value) for item in at.warning).replace("\\", "")  # Markdown escapes removed
    assert "MTL_MAX_EPOCHS" in shown and "MTL_MAX_BATCH_SIZE" in shown


def test_the_split_widgets_show_the_clamped_values() -> None:
    at = open_app("pages/data.py", {"data.split_seed": "9" * 20, "data.val_size": "0.95", "data.test_size": "0.05"})
    assert at.number_input(key="data.split_seed").value == limits.MAX_SEED
    assert at.number_input(key="data.test_size").value == pytest.approx(0.05)
