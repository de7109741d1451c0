"""The dashboard in a real browser: presets, share links, uploads, concurrent sessions, the comparison."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from mtl_core.config import ExperimentConfig
from mtl_core.experiment import resolve
from mtl_core.presets import PRESETS, preset
from tests.conftest import skip_unless_local
from tests.browser.support import (  # noqa: F401  (app_url, browser, page are fixtures)
    SETTLE_MS, app_url, browser, expect, open_train, page, ready, set_number, upload,
)

pytestmark = pytest.mark.browser

def test_a_preset_trains_three_epochs_with_a_curve_per_task(app_url: str, page: Any, tmp_path: Path) -> None:
    skip_unless_local(ExperimentConfig.from_dict(preset("wine-seed").config()).data.source)
    page.goto(app_url)
    expect(page.get_by_text("Start from a preset")).to_be_visible(timeout=30_000)
    page.locator(".st-key-home-preset-wine-seed button").click()
    expect(page.get_by_role("heading", name="Train", exact=True)).to_be_visible(timeout=30_000)
    ready(page)
    set_number(page, "Epochs", "3")
    expect(page).to_have_url(re.compile(r"train\.epochs=3"), timeout=SETTLE_MS)  # the address bar is the link
    page.get_by_role("button", name="Start").click()

    expect(page.get_by_text("completed: epoch 3 of 3")).to_be_visible(timeout=60_000)
    loss_chart = page.get_by_test_id("stPlotlyChart").filter(has_text="Loss by epoch")
    expect(loss_chart.locator(".scatterlayer .trace")).to_have_count(2, timeout=SETTLE_MS)  # quality, good (no val rows)
    expect(page.get_by_text("Test metrics")).to_be_visible(timeout=SETTLE_MS)
    expect(page.get_by_test_id("stPlotlyChart").filter(has_text="good: ROC")).to_have_count(1, timeout=SETTLE_MS)
    expect(page.get_by_test_id("stException")).to_have_count(0)
    shots = Path(os.environ.get("E2E_SHOT_DIR", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / "train_page.png"), full_page=True)


def test_a_share_link_opens_the_same_settings_in_another_browser(app_url: str, browser: Any) -> None:
    first, second = (browser.new_context(viewport={"width": 1280, "height": 2000}) for _ in range(2))
    try:
        page = first.new_page()
        open_train(page, f"{app_url}/train")
        menu = page.get_by_role("combobox", name="Weighting strategy")
        menu.click()
        menu.fill("gradnorm")
        page.get_by_role("option", name="gradnorm (loss)").click()
        expect(page.get_by_label("Alpha", exact=True)).to_be_visible(timeout=SETTLE_MS)
        ready(page)
        set_number(page, "Alpha", "0.5")
        set_number(page, "Seed", "5")
        expect(page).to_have_url(re.compile(r"strategy\.alpha=0\.5.*train\.seed=5"), timeout=SETTLE_MS)
        link = page.url

        other = second.new_page()
        open_train(other, link)
        expect(other.get_by_role("combobox", name="Weighting strategy")).to_have_value("gradnorm (loss)")
        expect(other.get_by_label("Alpha", exact=True)).to_have_value("0.5")
        expect(other.get_by_label("Seed", exact=True)).to_have_value("5")
        expect(other.get_by_test_id("stException")).to_have_count(0)
    finally:
        first.close()
        second.close()


def test_an_uploaded_csv_becomes_a_task_and_trains(app_url: str, page: Any, tmp_path: Path) -> None:
    table = tmp_path / "plants.csv"
    table.write_text("height,water,sun\n" + "".join(f"{i % 17},{i % 5},{(i % 17) * 0.5 + i % 5}\n"
                                                    for i in range(120)), encoding="utf-8")
    upload(page, app_url, table)
    page.get_by_role("button", name="Choose the model and weighting first").click()
    expect(page.get_by_role("heading", name="Train", exact=True)).to_be_visible(timeout=30_000)
    expect(page.get_by_text("plants.csv")).to_be_visible(timeout=SETTLE_MS)
    ready(page)
    set_number(page, "Epochs", "3")
    page.get_by_role("button", name="Start").click()
    expect(page.get_by_text("completed: epoch 3 of 3")).to_be_visible(timeout=60_000)
    expect(page.get_by_test_id("stException")).to_have_count(0)


def test_two_browsers_training_at_once_do_not_see_each_others_runs(app_url: str, browser: Any) -> None:
    first, second = (browser.new_context(viewport={"width": 1280, "height": 2000}) for _ in range(2))
    try:
        long_run, short_run = first.new_page(), second.new_page()
        open_train(long_run, f"{app_url}/train")
        set_number(long_run, "Epochs", "1000")
        set_number(long_run, "Batch size", "4")  # about 80 steps an epoch: it outlasts the short run
        long_run.get_by_role("button", name="Start").click()
        expect(long_run.get_by_text(re.compile(r"running: epoch \d+ of 1000"))).to_be_visible(timeout=60_000)

        open_train(short_run, f"{app_url}/train")
        set_number(short_run, "Epochs", "3")
        short_run.get_by_role("button", name="Start").click()
        expect(short_run.get_by_text("completed: epoch 3 of 3")).to_be_visible(timeout=60_000)
        expect(short_run.get_by_text("of 1000")).to_have_count(0)
        expect(long_run.get_by_text(re.compile(r"running: epoch \d+ of 1000"))).to_be_visible()
        long_run.get_by_role("button", name="Stop").click()
        expect(long_run.get_by_text(re.compile(r"stopped: epoch \d+ of 1000"))).to_be_visible(timeout=60_000)
        expect(long_run.get_by_text("of 3,")).to_have_count(0)
    finally:
        first.close()
        second.close()


def test_a_two_seed_comparison_shows_its_table_and_pareto_plot(app_url: str, page: Any) -> None:
    link = "compare?model.hidden=[8]&train.epochs=3&compare.seeds=2&compare.points=3"  # the link sets it all up
    page.goto(f"{app_url}/{link}")
    expect(page.get_by_role("heading", name="Compare", exact=True)).to_be_visible(timeout=30_000)
    ready(page)
    page.get_by_role("button", name="Start").click()
    expect(page.get_by_text("completed: 10 of 10 runs")).to_be_visible(timeout=120_000)  # (stl + equal + 3 points) × 2
    expect(page.get_by_text("Test metric per task (mean ± std over seeds)")).to_be_visible(timeout=SETTLE_MS)
    expect(page.get_by_test_id("stDataFrame")).to_have_count(1, timeout=SETTLE_MS)
    expect(page.get_by_test_id("stPlotlyChart")).to_have_count(2, timeout=SETTLE_MS)
    expect(page.get_by_test_id("stPlotlyChart").filter(has_text="static weights")).to_have_count(1, timeout=SETTLE_MS)
    expect(page.get_by_test_id("stException")).to_have_count(0)


@pytest.mark.parametrize("key", [item.key for item in PRESETS if item.key != "wine-seed"])
def test_every_other_preset_trains_and_draws_all_its_charts(app_url: str, page: Any, key: str) -> None:
    config = ExperimentConfig.from_dict(preset(key).config())
    skip_unless_local(config.data.source)  # the presets on always-present data still run
    page.goto(app_url)
    expect(page.get_by_text("Start from a preset")).to_be_visible(timeout=30_000)
    page.locator(f".st-key-home-preset-{key} button").click()
    expect(page.get_by_role("heading", name="Train", exact=True)).to_be_visible(timeout=30_000)
    ready(page)
    set_number(page, "Epochs", "2")
    page.get_by_role("button", name="Start").click()
    expect(page.get_by_text("completed: epoch 2 of 2")).to_be_visible(timeout=90_000)
    tasks = resolve(config).tasks
    regression = sum(task.kind == "regression" for task in tasks)
    charts = 1 + regression + 2 * (len(tasks) - regression)  # the loss curves, then the plots of each task
    expect(page.get_by_test_id("stPlotlyChart")).to_have_count(charts, timeout=SETTLE_MS)
    expect(page.get_by_test_id("stException")).to_have_count(0)
