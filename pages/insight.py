"""Insight page: why tasks help or hurt each other.

Training diagnostics (``train.diagnostics``) of a stored run: how the tasks' gradients on the shared layers agree,
where the update goes, their lookahead affinity (TAG: Fifty et al., 2021, "Efficiently Identifying Task Groupings
for Multi-Task Learning") and what the model's gates do; and the toy landscape of CAGrad (Liu et al., 2021,
"Conflict-Averse Gradient Descent for Multi-task Learning", §5): every chosen strategy races from the same starts,
with the same code as training."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import streamlit as st

from mtl_core.config import ExperimentConfig
from mtl_core.errors import MTLError
from mtl_core.insight import reading
from mtl_core.insight.examples import TITLES, example
from mtl_core.insight.toy import PAPER_STARTS, Trajectory, end_rows, landscape, race, toy_strategies
from mtl_core.safe_text import message, plain, safe_figure, shorten
from mtl_core.viz import insight as figures
from mtl_core.viz.toy import toy_race_figure
from pages._entry import through_entry
from pages._run_views import run_store, when
from pages._state import JOB_RUN, heartbeat, job_id, owner_id, start_job

through_entry()  # a deep link on a fresh server: run the entry file, which runs this page

VIEWS = ("Training diagnostics", "Toy landscape")
RUNS_LISTED = 25  # the newest runs of this browser offered for diagnosis
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


def toy_view() -> None:
    """The toy race: settings, Run, and the race once it has run."""
    st.markdown(INTRO)
    chosen, starts, steps, lr = settings_form()
    key = json.dumps([sorted(chosen), starts, steps, lr])
    if st.button("Run", key="insight.run", type="primary", disabled=not chosen or starts is None) and starts:
        run(key, chosen, starts, steps, lr)
    if key in finished():
        report(*finished()[key])
    elif chosen and starts is not None:
        st.info("Choose strategies, starts, steps and learning rate, then press **Run**.")


DIAGNOSTICS_INTRO = ("Train with **diagnostics** on (the setting `train.diagnostics`, or an example below) and this "
                     "view shows, epoch by epoch, whether the tasks' gradients on the shared layers point the same "
                     "way, how large each is, which way the update went, how much a step on one task lowers the "
                     "others' losses, and how the model's gates share their experts. The trained numbers are the "
                     "same as without diagnostics; only training is slower.")


def start_panel() -> None:
    """Start an example run with diagnostics through the Train page's job path; it becomes the run shown."""
    left, middle, right = st.columns([4, 1, 2], vertical_alignment="bottom")
    chosen = left.selectbox("Example run", list(TITLES), format_func=TITLES.__getitem__, key="insight.example")
    values = example(chosen)
    epochs = middle.number_input("Epochs", 1, 500, values["train"]["epochs"], key="insight.epochs")
    if right.button("Train with diagnostics", key="insight.start", type="primary", width="stretch"):
        values["train"]["epochs"] = int(epochs)
        if start_job(ExperimentConfig.from_dict(values)) and st.session_state.get(JOB_RUN):
            st.session_state["insight.chosen"] = st.session_state[JOB_RUN]


@st.fragment(run_every=1.0)
def progress(current: str) -> None:
    """While the session's run trains: how far it is; the whole page again once it has ended."""
    from mtl_core.jobs import job_manager

    heartbeat()
    snapshot = job_manager().snapshot(current)
    if snapshot.status in ("queued", "running"):
        st.info(f"Training with diagnostics: epoch {snapshot.epochs_done} of {snapshot.epochs}…")
    else:
        st.rerun()


def chosen_run() -> dict[str, Any] | None:
    """The results of the run chosen among this browser's newest stored runs (None when there is none)."""
    store = run_store()
    if store is None:
        st.info("This server keeps no runs (MTL_STORE=off), so there is none to look into.")
        return None
    runs = store.list_runs(visible_to=owner_id(), limit=RUNS_LISTED)
    labels = {run.id: f"{when(run.created)} · {run.dataset} · {run.architecture} · {run.strategy} · {run.status} "
                      f"({run.id[:6]})" for run in runs}
    if st.session_state.get("insight.chosen") not in labels:
        st.session_state.pop("insight.chosen", None)
    if not labels:
        st.info("No stored runs yet: start an example above, or train on the Train page with diagnostics on.")
        return None
    run_id = st.selectbox("Run", list(labels), format_func=lambda key: shorten(labels[key]),  # shown as text
                          key="insight.chosen")
    stored = store.get(run_id)
    return None if stored is None else stored.results_dict


def chart(figure: Any, key: str, caption: str = "") -> None:
    st.plotly_chart(safe_figure(figure), key=key)
    if caption:
        st.caption(plain(caption, limit=None))


def diagnostics_view(results: Mapping[str, Any]) -> None:
    """Every view of one run's diagnostics, with what each shows in plain words."""
    records: Sequence[Mapping[str, Any]] = results.get("diagnostics") or []
    tasks = reading.task_names(results)
    if not records:
        st.info("This run was trained without diagnostics. Start an example above, or set train.diagnostics = true.")
        return
    if len(tasks) < 2:
        st.info("This run has one task: there is no other task to help or hurt it.")
        return
    index = st.slider("Epoch", 1, len(records), len(records), key="insight.epoch") - 1 if len(records) > 1 else 0
    record = records[index]
    conflict, update, affinity, model = st.tabs(["Conflict", "Update direction", "Affinity", "Inside the model"])
    with conflict:
        chart(figures.cosine_heatmap(record, tasks), "insight.cosine", reading.conflict_caption(records, tasks))
        chart(figures.conflict_curves(records, tasks), "insight.conflict", reading.trend_caption(records, tasks))
        chart(figures.task_curves(records, tasks, "norms", "Gradient norm on the shared layers", "‖∇L‖", log_y=True),
              "insight.norms", reading.norm_caption(records, tasks))
    with update:
        if any("angles" in entry for entry in records):
            chart(figures.task_curves(records, tasks, "angles", "Angle between the update and each task's gradient",
                                      "degrees"), "insight.angles", reading.angle_caption(records, tasks))
            chart(figures.task_curves(records, tasks, "implied_weights", "Implied task weights", "weight"),
                  "insight.weights", reading.weights_caption(records, tasks))
        else:
            st.info("A loss-weighting strategy steps along the gradient of its weighted loss: its task weights are "
                    "on the Train and Runs pages. Gradient strategies (MGDA, PCGrad, CAGrad, …) show here where "
                    "their update went.")
    with affinity:
        matrix = reading.run_affinity(records)
        if matrix:
            chart(figures.affinity_heatmap(matrix, tasks), "insight.affinity", reading.affinity_caption(matrix, tasks))
            st.caption("Measured on up to 4 evenly spaced steps per epoch, with one plain SGD step at the run's "
                       "learning rate, in evaluation mode; the matrix is the mean over every measured step.")
        else:
            st.info("No affinity was measured (a strategy working on the shared representation, or no shared layers).")
    with model:
        model_view(records, record, tasks)


def model_view(records: Sequence[Mapping[str, Any]], record: Mapping[str, Any], tasks: Sequence[str]) -> None:
    shown = record.get("model") or {}
    for level in range(len(shown.get("gates") or [])):
        chart(figures.gate_heatmap(record, level), f"insight.gates.{level}", reading.gate_caption(record, level))
    if shown.get("cross_stitch"):
        chart(figures.cross_stitch_curves(records, tasks), "insight.stitch", reading.cross_stitch_caption(records, tasks))
    if shown.get("relative_distances"):
        chart(figures.distance_curves(records, tasks), "insight.distances", reading.distance_caption(records))
    if not shown:
        st.info("This architecture has no gates, cross-stitch units or tied trunks to show (MMoE, CGC, PLE, "
                "cross_stitch and soft_sharing do).")


def diagnostics_section() -> None:
    st.markdown(DIAGNOSTICS_INTRO)
    start_panel()
    current = job_id()
    if current is not None:
        from mtl_core.jobs import job_manager

        try:
            active = job_manager().status(current) in ("queued", "running")
        except MTLError:
            active = False
        if active:
            progress(current)
    results = chosen_run()
    if results is not None:
        diagnostics_view(results)


st.title("Insight")
view = st.segmented_control("View", VIEWS, default=VIEWS[0], key="insight.view", label_visibility="collapsed")
if view == VIEWS[1]:
    toy_view()
else:
    diagnostics_section()
