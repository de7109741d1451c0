"""Generated data sets: each is a pure function of its hyper-parameters (same values, same table).

A generator's hyper-parameters are its keyword-only arguments; ``MMoEParams``, ``RoutedParams`` and
``CellsParams`` are the pydantic models built from them (defaults and limits in one place).
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
import pandas as pd
from pydantic import Field

from mtl_core.bounds import limited
from mtl_core.data.sources import DatasetSource, LoadedData, Size, register
from mtl_core.settings import hparam_model
from mtl_core.tasks import TaskSpec

TABLE_CELLS = Size("MAX_CELLS", ("n_rows", "n_features"))  # the generated features dominate the table's size
Seed = Annotated[int, Field(ge=0, description="seed of every random draw")]


def mmoe_table(
    *,
    correlation: Annotated[float, Field(ge=-1.0, le=1.0, description="p, the cosine of the task weight vectors")] = 0.5,
    n_rows: Annotated[int, limited("MAX_ROWS", ge=10, description="rows generated")] = 10_000,
    n_features: Annotated[int, limited("MAX_COLUMNS", ge=2, description="d, the input features")] = 100,
    n_sines: Annotated[int, Field(ge=0, le=100, description="m, the number of sine terms")] = 10,
    noise: Annotated[float, Field(ge=0.0, description="σ of ε (0.1: the paper's variance 0.01)")] = 0.1,
    scale: Annotated[float, Field(gt=0.0, description="c, the length of the weight vectors")] = 1.0,
    seed: Annotated[int, Field(ge=0, description="the directions u1, u2, the rows x and the noise")] = 0,
    sine_seed: Annotated[int, Field(ge=0, description="the paper's 'given' α_j, β_j: fixed unless changed")] = 2018,
) -> pd.DataFrame:
    """Ma et al., KDD 2018, "Modeling Task Relationships in Multi-task Learning with Multi-gate
    Mixture-of-Experts", §4.1 (synthetic data):

    u1 ⟂ u2 unit vectors in R^d; w1 = c·u1, w2 = c·(p·u1 + √(1−p²)·u2), so cos(w1, w2) = p;
    x ~ N(0, I_d); y_i = w_iᵀx + Σ_{j=1..m} sin(α_j·w_iᵀx + β_j) + ε_i, ε_i ~ N(0, σ²).
    The paper calls α_j, β_j "given parameters"; here they are one fixed draw from N(0, 1)
    (``sine_seed``), so the label correlation depends on p alone and not on ``seed``. The sines
    make it fall below p: with the default draw, Pearson ≈ 0.00 / 0.39 / 0.84 / 0.995 for
    p = 0 / 0.5 / 0.9 / 1 (averaged over random draws of α, β it is ≈ 0.00 / 0.33 / 0.80 / 0.99).
    """
    rng = np.random.default_rng(seed)
    u1 = rng.standard_normal(n_features)
    u1 /= np.linalg.norm(u1)
    u2 = rng.standard_normal(n_features)
    u2 -= (u2 @ u1) * u1  # Gram-Schmidt: u2 ⟂ u1
    u2 /= np.linalg.norm(u2)
    w1 = scale * u1
    w2 = scale * (correlation * u1 + np.sqrt(max(0.0, 1.0 - correlation**2)) * u2)
    sines = np.random.default_rng(sine_seed)
    alpha, beta = sines.standard_normal(n_sines), sines.standard_normal(n_sines)
    x = rng.standard_normal((n_rows, n_features))

    def label(w: np.ndarray) -> np.ndarray:
        z = x @ w
        sines = sum((np.sin(a * z + b) for a, b in zip(alpha, beta, strict=True)), np.zeros(n_rows))  # O(rows) memory
        return z + sines + noise * rng.standard_normal(n_rows)

    table = pd.DataFrame(x, columns=[f"x{index}" for index in range(n_features)])
    return table.assign(y1=label(w1), y2=label(w2))


MMoEParams = hparam_model(mmoe_table)


def routed_table(
    *,
    n_tasks: Annotated[int, Field(ge=2, le=20, description="T, the tasks (task_0 … task_{T−1})")] = 3,
    n_rows: Annotated[int, limited("MAX_ROWS", ge=20, description="rows generated")] = 3_000,
    n_features: Annotated[int, limited("MAX_COLUMNS", ge=2, description="d, the input features")] = 20,
    relatedness: Annotated[float, Field(ge=0.0, le=1.0, description="r, the share of each task's weights that all "
                                                                    "tasks share")] = 0.7,
    kind: Annotated[Literal["regression", "binary"], Field(description="a score, or its sign as 0/1")] = "regression",
    noise: Annotated[float, Field(ge=0.0, description="standard deviation of ε")] = 0.1,
    seed: Seed = 0,
) -> pd.DataFrame:
    """Seed 004's setting: T tasks on one input space, each row labelled for one task only.

    w_t = r·w_shared + √(1−r²)·v_t (unit vectors); the row's task is drawn uniformly;
    y = tanh(w_tᵀx) + w_tᵀx / 2 + ε, or for ``binary`` the sign of that score as 0/1.
    The table holds the features, ``task_id`` (task_0 … task_{T−1}) and one target column ``y``.
    """
    rng = np.random.default_rng(seed)
    shared = _unit(rng.standard_normal(n_features))
    weights = np.stack([
        _unit(relatedness * shared + np.sqrt(1 - relatedness**2) * _unit(rng.standard_normal(n_features)))
        for _ in range(n_tasks)
    ])  # [T, d]
    x = rng.standard_normal((n_rows, n_features))
    task = rng.integers(0, n_tasks, size=n_rows)
    score = np.einsum("nd,nd->n", x, weights[task])
    y = np.tanh(score) + score / 2 + noise * rng.standard_normal(n_rows)
    table = pd.DataFrame(x, columns=[f"x{index}" for index in range(n_features)])
    return table.assign(task_id=[f"task_{index}" for index in task], y=(y > 0).astype(int) if kind == "binary" else y)


RoutedParams = hparam_model(routed_table)


def _unit(vector: np.ndarray) -> np.ndarray:
    return vector / np.linalg.norm(vector)


def _routed_source() -> DatasetSource:
    defaults = RoutedParams().model_dump()
    return DatasetSource(
        name="routed-synthetic",
        description="Seed 004's task-id routed setting: 3 related regression tasks on 20 shared features, every row "
        "labelled for one task only (column task_id); params n_tasks, kind, relatedness change it.",
        load=routed_table,
        default_tasks=tuple(
            TaskSpec(name=f"task_{index}", column="y", kind=defaults["kind"], task_id=f"task_{index}")
            for index in range(defaults["n_tasks"])
        ),
        task_id_column="task_id",
        sizes=(TABLE_CELLS,),
    )


def cells_data(
    *,
    n_images: Annotated[int, limited("MAX_IMAGES", ge=20, description="images generated")] = 1_200,
    size: Annotated[int, limited("MAX_IMAGE_SIDE", ge=16, description="side of each square image, in pixels")] = 32,
    infection_onset_hour: Annotated[float, Field(ge=0.0, lt=48.0, description="hour at which infected cultures "
                                                                              "turn")] = 12.0,
    duration_hours: Annotated[float, Field(gt=0.0, description="length of the experiment, in hours")] = 48.0,
    noise: Annotated[float, Field(ge=0.0, description="standard deviation of the pixel noise")] = 0.05,
    seed: Seed = 0,
) -> LoadedData:
    """Grayscale time-course "cells" in the spirit of seed 003.

    Each image is taken at hour h of an experiment. Cells (soft discs) grow with h. An infected
    culture is imaged after the infection's onset and shows bright granules whose number grows
    with the hours since onset. Labels: ``infected`` (0/1) and ``time`` = h − onset if infected,
    else h (seed 003's time target: hours since onset, or since the start).
    """
    rng = np.random.default_rng(seed)
    infected = rng.random(n_images) < 0.5
    low = np.where(infected, infection_onset_hour, 0.0)
    hours = low + rng.random(n_images) * (duration_hours - low)
    since = np.where(infected, hours - infection_onset_hour, 0.0) / max(duration_hours - infection_onset_hour, 1e-9)
    images = np.empty((n_images, 1, size, size), dtype=np.float32)  # filled in place: one image in float64 at a time
    for i in range(n_images):
        images[i, 0] = _cell_image(rng, size, hours[i] / duration_hours, since[i] if infected[i] else None, noise)
    table = pd.DataFrame({
        "hours_since_start": hours,
        "infected": infected.astype(int),
        "time": np.where(infected, hours - infection_onset_hour, hours),
    })
    return LoadedData(table, images)


CellsParams = hparam_model(cells_data)


def _cell_image(rng: np.random.Generator, size: int, progress: float, infection: float | None,
                noise: float) -> np.ndarray:
    """One [size, size] image in [0, 1]; ``progress`` in [0, 1] sets the cell size, ``infection`` the granules."""
    yy, xx = np.mgrid[0:size, 0:size] / size
    image = np.zeros((size, size))
    for _ in range(rng.integers(1, 4)):
        cy, cx = rng.uniform(0.25, 0.75, size=2)
        radius = (0.08 + 0.12 * progress) * rng.uniform(0.85, 1.15)
        distance = np.hypot(yy - cy, xx - cx)
        image += 0.45 / (1 + np.exp((distance - radius) * size / 1.5))  # soft-edged disc
        if infection is not None:
            for _ in range(2 + int(round(8 * infection))):
                angle, reach = rng.uniform(0, 2 * np.pi), radius * np.sqrt(rng.uniform(0, 0.8))
                gy, gx = cy + reach * np.sin(angle), cx + reach * np.cos(angle)
                image += 0.5 * np.exp(-((yy - gy) ** 2 + (xx - gx) ** 2) / (2 * (0.6 / size) ** 2 + 1e-12))
    image += noise * rng.standard_normal((size, size))
    return np.clip(image, 0.0, 1.0)


register(DatasetSource(
    name="mmoe-synthetic",
    description="Two regression tasks whose relatedness you set (Ma et al., KDD 2018, §4): params.correlation "
    "is the cosine of the task weight vectors; 0 gives unrelated labels, 1 identical ones up to noise.",
    load=mmoe_table,
    default_tasks=(
        TaskSpec(name="y1", column="y1", kind="regression"),
        TaskSpec(name="y2", column="y2", kind="regression"),
    ),
    citation="Ma et al., 2018, Modeling Task Relationships in Multi-task Learning with Multi-gate Mixture-of-Experts, KDD",
    sizes=(TABLE_CELLS,),
))
register(_routed_source())
register(DatasetSource(
    name="cells-synthetic",
    description="Generated grayscale cell images (seed 003's system): is the culture infected, and how many hours "
    "since infection onset (infected) or since the start (not infected).",
    load=cells_data,
    default_tasks=(
        TaskSpec(name="infected", column="infected", kind="binary", loss="bce"),
        TaskSpec(name="time", column="time", kind="regression", loss="smooth_l1", standardize=True),
    ),
    label_columns=("hours_since_start",),
    sizes=(Size("MAX_PIXELS", ("n_images", "size", "size")),),
))
