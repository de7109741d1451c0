"""Plain-language readings and figures of a run's diagnostics, from hand-made records."""

from __future__ import annotations

from typing import Any

import pytest

from mtl_core.insight import reading
from mtl_core.viz import insight as figures

RECORDS: list[dict[str, Any]] = [
    {"epoch": 1, "steps": 4, "cosine": {"a|b": 0.2}, "negative_fraction": {"a|b": 0.25}, "norms": {"a": 4.0, "b": 1.0},
     "angles": {"a": 30.0, "b": 100.0}, "implied_weights": {"a": 0.5, "b": 1.5},
     "affinity": {"a": {"a": 0.1, "b": -0.01}, "b": {"a": 0.02, "b": 0.05}}, "affinity_steps": 4,
     "model": {"gates": [{"a": {"expert 1": 0.8, "expert 2": 0.2}, "b": {"expert 1": 0.3, "expert 2": 0.7}}]}},
    {"epoch": 2, "steps": 4, "cosine": {"a|b": -0.4}, "negative_fraction": {"a|b": 0.5}, "norms": {"a": 4.0, "b": 1.0},
     "angles": {"a": 30.0, "b": 100.0}, "implied_weights": {"a": 0.5, "b": 1.5},
     "affinity": {"a": {"a": 0.1, "b": -0.01}, "b": {"a": 0.02, "b": 0.05}}, "affinity_steps": 4},
]
TASKS = ["a", "b"]


def test_the_conflict_caption_states_the_share_of_conflicting_steps() -> None:
    text = reading.conflict_caption(RECORDS, TASKS)
    assert "opposite directions in 38 % of the measured steps" in text and "mean cosine -0.10" in text


def test_norms_angles_and_weights_are_read_in_plain_words() -> None:
    assert "a's gradient on the shared layers is 4.0× the size of b's" in reading.norm_caption(RECORDS, TASKS)
    angles = reading.angle_caption(RECORDS, TASKS)
    assert "leans towards a" in angles and "More than 90° from b" in angles
    assert reading.weights_caption(RECORDS, TASKS).endswith("b 1.5, a 0.5 on average.")


def test_affinity_and_gates_are_read_from_the_records() -> None:
    matrix = reading.run_affinity(RECORDS)
    assert matrix["a"]["b"] == pytest.approx(-0.01)
    assert reading.affinity_caption(matrix, TASKS).startswith("Steps on b lower the loss of a")
    gates = reading.gate_caption(RECORDS[0])
    assert "a leans most on expert 1 (80 %)" in gates and "differ by 50 %" in gates


def test_the_figures_draw_every_view_from_the_records() -> None:
    assert figures.cosine_heatmap(RECORDS[1], TASKS).data[0].z[0][1] == pytest.approx(-0.4)
    assert len(figures.conflict_curves(RECORDS, TASKS).data) == 2  # cosine and conflict share, one pair
    assert [trace.name for trace in figures.task_curves(RECORDS, TASKS, "norms", "t", "y").data] == TASKS
    assert figures.affinity_heatmap(reading.run_affinity(RECORDS), TASKS).data[0].z[1][0] == pytest.approx(0.02)
    assert list(figures.gate_heatmap(RECORDS[0]).data[0].x) == ["expert 1", "expert 2"]
