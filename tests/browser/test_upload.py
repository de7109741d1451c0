"""A user's own table in a real browser: upload, pick the columns to predict in one menu, train, see every task.

No cell of the task table is edited: the kinds come from the columns' values.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tests.browser.support import (  # noqa: F401  (app_url, browser, page are fixtures)
    SETTLE_MS, app_url, browser, expect, page, ready, upload,
)

pytestmark = pytest.mark.browser


def linnerud_like(rows: int = 20, seed: int = 0) -> pd.DataFrame:
    """Three exercise inputs and three float body measurements that depend on them (like load_linnerud)."""
    generator = np.random.default_rng(seed)
    inputs = generator.normal(size=(rows, 3)) * [5.0, 50.0, 60.0] + [10.0, 150.0, 70.0]
    return pd.DataFrame({
        "Chins": inputs[:, 0].round(1), "Situps": inputs[:, 1].round(1), "Jumps": inputs[:, 2].round(1),
        "Weight": (180 - 1.5 * inputs[:, 0] + generator.normal(0, 8, rows)).round(2),
        "Waist": (35 - 0.02 * inputs[:, 1] + generator.normal(0, 2, rows)).round(2),
        "Pulse": (56 + 0.05 * inputs[:, 2] + generator.normal(0, 5, rows)).round(2),
    })


def patients(rows: int = 120, seed: int = 1) -> pd.DataFrame:
    """Two numeric inputs, a yes/no target and a three-grade target (the last column)."""
    generator = np.random.default_rng(seed)
    x = generator.normal(size=(rows, 2))
    return pd.DataFrame({
        "age": (50 + 10 * x[:, 0]).round(1), "bmi": (25 + 4 * x[:, 1]).round(1),
        "smoker": np.where(x[:, 0] + generator.normal(0, 0.5, rows) > 0, "yes", "no"),
        "grade": np.digitize(x[:, 1] + generator.normal(0, 0.5, rows), [-0.5, 0.5]) + 1,
    })


class Clicks:
    """A user's clicks, counted: choosing a file is one (the file dialog's own choice is not counted)."""

    def __init__(self, page: Any) -> None:
        self.page, self.count = page, 0

    def choose_file(self, url: str, table: Path) -> None:
        self.count += 1
        upload(self.page, url, table)

    def click(self, target: Any) -> None:
        self.count += 1
        target.click()
        ready(self.page)


def pick_targets(clicks: Clicks, names: list[str]) -> None:
    """Pick columns to predict: each is a button of its own, one click."""
    group = clicks.page.get_by_test_id("stButtonGroup").filter(has_text="Columns to predict")
    for name in names:
        clicks.click(group.get_by_role("button", name=name, exact=True))


def train_now(clicks: Clicks) -> None:
    """One click on Train now: the run starts with the default model and weighting, and Train shows it."""
    clicks.click(clicks.page.get_by_role("button", name="Train now"))
    expect(clicks.page.get_by_role("heading", name="Train", exact=True)).to_be_visible(timeout=30_000)
    expect(clicks.page.get_by_text("completed: epoch 100 of 100")).to_be_visible(timeout=90_000)


def test_three_float_targets_picked_in_one_menu_train_with_a_curve_and_a_plot_each(
        app_url: str, page: Any, tmp_path: Path) -> None:
    table = tmp_path / "linnerud.csv"
    linnerud_like().to_csv(table, index=False)
    clicks = Clicks(page)
    clicks.choose_file(app_url, table)
    expect(page.get_by_text("linnerud.csv").first).to_be_visible()
    pick_targets(clicks, ["Weight", "Waist"])  # Pulse, the last column, is already picked
    expect(page.get_by_text("Ready: 3 tasks,")).to_be_visible(timeout=SETTLE_MS)
    charts = page.get_by_test_id("stVegaLiteChart")
    expect(charts).to_have_count(2, timeout=SETTLE_MS)  # the distributions, the targets against an input
    expect(charts.first.locator("canvas, svg").first).to_be_visible(timeout=SETTLE_MS)
    expect(page.get_by_text("uploads/")).to_have_count(0)

    train_now(clicks)
    assert clicks.count == 4  # the file, two more targets, Train now
    loss_chart = page.get_by_test_id("stPlotlyChart").filter(has_text="Loss by epoch")
    for name in ("Weight", "Waist", "Pulse"):
        expect(loss_chart.get_by_text(f"{name} (train)")).to_have_count(1, timeout=SETTLE_MS)
        expect(page.get_by_test_id("stPlotlyChart").filter(has_text=f"{name}: predicted vs true")).to_have_count(
            1, timeout=SETTLE_MS)
    expect(page.get_by_test_id("stException")).to_have_count(0)


def test_a_binary_and_a_multiclass_target_train_without_editing_a_cell(
        app_url: str, page: Any, tmp_path: Path) -> None:
    table = tmp_path / "patients.csv"
    patients().to_csv(table, index=False)
    clicks = Clicks(page)
    clicks.choose_file(app_url, table)
    pick_targets(clicks, ["smoker"])  # grade, the last column, is already picked
    expect(page.get_by_text("Ready: 2 tasks,")).to_be_visible(timeout=SETTLE_MS)
    expect(page.get_by_test_id("stVegaLiteChart")).to_have_count(2, timeout=SETTLE_MS)

    train_now(clicks)
    assert clicks.count == 3  # the file, the second target, Train now
    loss_chart = page.get_by_test_id("stPlotlyChart").filter(has_text="Loss by epoch")
    for name in ("grade", "smoker"):
        expect(loss_chart.get_by_text(f"{name} (train)")).to_have_count(1, timeout=SETTLE_MS)
        expect(page.get_by_role("heading", name=f"{name} (test split)")).to_be_visible(timeout=SETTLE_MS)
    expect(page.get_by_test_id("stException")).to_have_count(0)
