"""Insight page: the toy landscape of CAGrad (Liu et al., 2021, "Conflict-Averse Gradient Descent for Multi-task
Learning", §5): every chosen strategy races from the same starts, with the same code as training."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pandas as pd
import streamlit as st

from mtl_core.errors import MTLError
from mtl_core.insight.toy import PAPER_STARTS, Trajectory, end_rows, landscape, race, toy_strategies
from mtl_core.safe_text import message
from mtl_core.viz.toy import toy_race_figure
from pages._entry import through_entry

through_entry()  # a deep link on a fresh server: run the entry file, which runs this page

DEFAULT_STRATEGIES = ("equal", "mgda", "pcgrad", "cagrad")  # the paper's Figure 1
STEPS, LR = 100_000, 1e-3  # the paper's: minutes for four methods; a race is kept, so it runs once per server
MAX_STEPS, KEPT = 100_000, 16  # races kept for this server's sessions
INTRO = ("Two tasks share two parameters, (x1, x2). Each task has its own loss surface, and the two pull in "
         "different directions: the weighting strategy decides which way the shared parameters move. This is the "
         "toy of the CAGrad paper (Liu et al., NeurIPS 2021, §5), run here with the same strategy code as training.")
CAPTION = ("Each method starts at the same three points (black circles) and moves by Adam along the direction its "
           "strategy makes of the two tasks' gradients. The dashed line is the Pareto set: the places where no task "
           "can improve without hurting the other; its star is the middle, where the mean of the two losses is "
           "lowest. A method that stops off the line got stuck where one task's slope is nearly flat; one that "
           "stops at an end of the line served one task only. Press Play to watch the paths grow; the buttons above "
           "the plot switch the contours between task 1's loss, task 2's and their mean.")


@st.cache_resource
def finished() -> dict[str, tuple[dict[str, list[Trajectory]], dict[str, Any]]]:
    """Races already run on this server, by their settings (shared by sessions, the newest KEPT)."""
    return {}


@st.cache_data(show_spinner=False)
def contours() -> dict[str, Any]:
    return landscape()


def settings_form() -> tuple[list[str], list[tuple[float, float]] | None, int, float]:
    """Strategies, starts (None when they cannot be read: the error is shown), steps and learning rate."""
    names = toy_strategies()
    chosen = st.multiselect("Strategies", names, [name for name in DEFAULT_STRATEGIES if name in names],
                            key="insight.strategies", help="gradient and loss-weighting strategies the toy can run; "
                            "CAGrad runs with c = 0.5, the paper's toy setting")
    left, middle, right = st.columns([3, 1, 1])
    text = left.text_input("Starts (x1, x2; …)", starts_text(PAPER_STARTS), key="insight.starts",
                           help="the paper's three starts by default")
    steps = middle.number_input("Steps", 1, MAX_STEPS, STEPS, step=1000, key="insight.steps",
                                help="the paper's 100 000 steps at lr 0.001 take minutes. 20 000 at 0.005 take a "
                                "fifth of that and show the same outline, though equal weighting then escapes "
                                "from (9, 9) late")
    lr = right.number_input("Learning rate", 1e-5, 0.1, LR, format="%.4f", key="insight.lr", help="Adam's")
    return chosen, read_starts(text), int(steps), float(lr)


def starts_text(starts: Sequence[Sequence[float]]) -> str:
    return "; ".join(f"{x1:g}, {x2:g}" for x1, x2 in starts)


def read_starts(text: str) -> list[tuple[float, float]] | None:
    """Points written "x1, x2; x1, x2"; None (with an error shown) when the text is not that."""
    try:
        points = [tuple(float(value) for value in part.split(",")) for part in text.split(";") if part.strip()]
    except ValueError:
        points = []
    if not points or any(len(point) != 2 for point in points):
        st.error(f"Starts: {message(text)!s} is not a list of points; write them as 'x1, x2; x1, x2', e.g. "
                 f"'{starts_text(PAPER_STARTS)}'.")
        return None
    return [(point[0], point[1]) for point in points]


def run(key: str, chosen: list[str], starts: list[tuple[float, float]], steps: int, lr: float) -> None:
    """The race, kept under its settings; a bad setting is shown instead."""
    try:
        with st.spinner(f"{len(chosen)} strategies × {len(starts)} starts × {steps:,} steps…"):
            result = race(chosen, starts, steps, lr)
    except MTLError as error:
        st.error(message(error))
        return
    store = finished()
    store[key] = (result, {name: [run.to_dict() for run in runs] for name, runs in result.items()})
    while len(store) > KEPT:
        store.pop(next(iter(store)))


def report(result: dict[str, list[Trajectory]], shown: dict[str, Any]) -> None:
    # no safe_figure: every text in the figure is a registered strategy's name or a number
    st.plotly_chart(toy_race_figure(contours(), shown), key="insight.figure")
    st.caption(CAPTION)
    table = pd.DataFrame(end_rows(result))
    st.dataframe(table, key="insight.table", hide_index=True,
                 column_config={column: st.column_config.NumberColumn(format="%.4f")
                                for column in ("end x1", "end x2", "to the middle", "to the Pareto set")})
    st.download_button("Trajectories (JSON)", json.dumps(shown), "toy.json", "application/json",
                       key="insight.download")


st.title("Insight")
st.markdown(INTRO)
chosen, starts, steps, lr = settings_form()
key = json.dumps([sorted(chosen), starts, steps, lr])
if st.button("Run", key="insight.run", type="primary", disabled=not chosen or starts is None) and starts:
    run(key, chosen, starts, steps, lr)
if key in finished():
    report(*finished()[key])
elif chosen and starts is not None:
    st.info("Choose strategies, starts, steps and learning rate, then press **Run**.")
