"""Widget helpers shared by the pages: each draws a few widgets keyed ``"<page>.<setting>"`` and returns plain values."""

from __future__ import annotations

from typing import Any

import streamlit as st

from mtl_core.config import DEFAULT_DATASET, TrainConfig
from mtl_core.data import DATASETS


def dataset_picker(page: str, current: str = DEFAULT_DATASET) -> str:
    """A built-in data set chosen from a menu, with its description and default tasks below it."""
    names = DATASETS.names()
    name = st.selectbox(
        "Data set", names, index=names.index(current) if current in names else 0, key=f"{page}.dataset",
        help="Built-in tables; the Wine Quality files are downloaded from UCI once and then cached.",
    )
    source = DATASETS.get(name)
    tasks = ", ".join(f"{task.name} ({task.kind})" for task in source.default_tasks)
    st.caption(f"{source.description}  \nTasks: {tasks}")
    return str(name)


def training_settings(page: str, current: TrainConfig) -> dict[str, Any]:
    """Epochs, learning rate and seed side by side; returns them as ``train`` config values."""
    epochs_column, lr_column, seed_column = st.columns(3)
    epochs = epochs_column.number_input(
        "Epochs", min_value=1, max_value=100_000, value=current.epochs, step=1, key=f"{page}.epochs",
    )
    lr = lr_column.number_input(
        "Learning rate", min_value=1e-6, max_value=10.0, value=current.lr, step=1e-3, format="%g",
        key=f"{page}.lr",
    )
    seed = seed_column.number_input(
        "Seed", min_value=0, value=current.seed, step=1, key=f"{page}.seed",
        help="Initial weights, shuffling and dropout all follow this seed, so a run can be repeated.",
    )
    return {"epochs": int(epochs), "lr": float(lr), "seed": int(seed)}
