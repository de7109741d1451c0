"""The Data page's altair figures, read as data: their panels, marks, encodings and the counts they carry."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from mtl_core.viz import distributions, target_scatter
from mtl_core.viz.data import MAX_POINTS, column_counts


def table() -> pd.DataFrame:
    generator = np.random.default_rng(0)
    return pd.DataFrame({
        "chins": generator.normal(10, 3, 40), "weight": generator.normal(180, 20, 40),
        "colour": ["red", "white", "red", "rosé"] * 10, "odd.name [kg]": np.arange(40) % 3,
    })


def panels(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return list(spec["concat"])


def rows_of(spec: dict[str, Any], panel: dict[str, Any]) -> list[dict[str, Any]]:
    data = panel.get("data", spec.get("data"))  # one panel's data moves up to the top of the spec
    return list(spec["datasets"][data["name"]])


def test_one_histogram_per_column_titled_by_its_name_in_order() -> None:
    spec = distributions(table()).to_dict()
    assert [panel["title"] for panel in panels(spec)] == ["chins", "weight", "colour", "odd.name [kg]"]
    assert {panel["mark"]["type"] for panel in panels(spec)} == {"bar"}
    assert spec["columns"] == 3


def test_a_numeric_histogram_is_binned_and_counts_every_row() -> None:
    spec = distributions(table(), ["weight"]).to_dict()
    (panel,) = panels(spec)
    assert panel["encoding"]["x"]["field"] == "start" and panel["encoding"]["x"]["bin"] == "binned"
    assert panel["encoding"]["x2"]["field"] == "end" and panel["encoding"]["y"]["field"] == "count"
    assert sum(row["count"] for row in rows_of(spec, panel)) == 40


def test_a_text_column_shows_the_counts_of_its_values_most_frequent_first() -> None:
    spec = distributions(table(), ["colour"]).to_dict()
    (panel,) = panels(spec)
    assert panel["encoding"]["x"] == {"field": "value", "sort": "-y", "title": None, "type": "nominal"}
    assert [(row["value"], row["count"]) for row in rows_of(spec, panel)] == [("red", 20), ("white", 10), ("rosé", 10)]


def test_missing_cells_are_left_out_of_a_histogram() -> None:
    assert column_counts(pd.Series([1.0, None, 2.0, np.nan]))["count"].sum() == 2


def test_a_scatter_per_task_of_the_chosen_input_against_its_target() -> None:
    spec = target_scatter(table(), "chins", {"weight": "weight", "colour": "colour"}).to_dict()
    first, second = panels(spec)
    assert first["title"] == "weight: weight against chins" and first["mark"]["type"] == "circle"
    assert first["encoding"]["x"]["field"] == "x" and first["encoding"]["x"]["type"] == "quantitative"
    assert first["encoding"]["y"]["type"] == "quantitative" and second["encoding"]["y"]["type"] == "nominal"
    assert "color" not in first["encoding"]  # no split known: plain points
    assert len(rows_of(spec, first)) == 40


def test_points_are_coloured_by_split_when_it_is_known() -> None:
    split = ["train"] * 30 + ["val"] * 4 + ["test"] * 6
    spec = target_scatter(table(), "chins", {"w": "weight"}, split=split).to_dict()
    (panel,) = panels(spec)
    assert panel["encoding"]["color"]["field"] == "split"
    assert [row["split"] for row in rows_of(spec, panel)] == split


def test_a_large_table_draws_a_fixed_sample_of_its_rows() -> None:
    big = pd.DataFrame({"x": np.arange(10_000.0), "y": np.arange(10_000.0) % 7})
    first, again = (target_scatter(big, "x", {"y": "y"}).to_dict() for _ in range(2))
    assert len(rows_of(first, panels(first)[0])) == MAX_POINTS
    assert rows_of(first, panels(first)[0]) == rows_of(again, panels(again)[0])
