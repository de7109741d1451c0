"""Widget helpers shared by the pages: each draws a few widgets keyed ``"<page>.<setting>"`` and returns plain values."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import streamlit as st

from mtl_core import limits
from mtl_core.bounds import field_range, within
from mtl_core.config import DEFAULT_DATASET, MAX_LAYERS, ModelConfig, StrategyConfig, TrainConfig
from mtl_core.data import DATASETS
from mtl_core.experiment import available_devices
from mtl_core.models import describe_architectures
from mtl_core.weighting import describe
from mtl_core.safe_text import plain
from pages._forms import bounded_input, schema_form

TRUNK_KEYS = ("trunk", "hidden", "activation", "dropout", "norm", "channels", "blocks")


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


def _forget(prefix: str) -> None:
    """Drop the widget values under ``prefix``: another method's form starts from its own defaults."""
    for key in [key for key in st.session_state if isinstance(key, str) and key.startswith(prefix)]:
        del st.session_state[key]


def model_settings(page: str, current: ModelConfig) -> dict[str, Any]:
    """Architecture (with its own settings, drawn from its schema) and the trunk; returns the ``model`` section."""
    items = {item["name"]: item for item in describe_architectures()}
    names = list(items)
    left, right = st.columns(2)
    name = left.selectbox("Architecture", names, index=names.index(current.architecture)
                          if current.architecture in names else names.index("hps"), key=f"{page}.architecture",
                          on_change=_forget, args=(f"{page}.model.",))
    left.caption(items[name]["summary"])
    trunk = right.radio("Trunk", ["mlp", "cnn"], index=["mlp", "cnn"].index(current.trunk), key=f"{page}.trunk",
                        horizontal=True, help="mlp for tables; cnn (small residual stages) for image data sets")
    values: dict[str, Any] = {"architecture": name, "trunk": trunk}
    if trunk == "mlp":
        values["hidden"] = int_list(right, "Hidden units per layer", current.hidden, f"{page}.hidden")
    else:
        values["channels"] = int_list(right, "Channels per stage", current.channels, f"{page}.channels")
        values["blocks"] = bounded_input(right, "Residual blocks per stage", ModelConfig, "blocks", current.blocks, 1,
                                         key=f"{page}.blocks")
    own = current.hparams if current.architecture == name else {}
    values.update(schema_form(f"{page}.model", items[name]["params"], own))
    return values


def int_list(where: Any, label: str, current: Sequence[int], key: str) -> list[int]:
    """A comma-separated list of positive integers; a bad entry is shown and the current list kept.

    Sizes past MAX_UNITS are cut to it and layers past MAX_LAYERS left out, each with a warning.
    """
    text = where.text_input(label, ", ".join(str(size) for size in current), key=key, max_chars=400,
                            help=f"e.g. 64, 64; {limits.describe('MAX_UNITS')}")
    try:
        sizes = [int(part) for part in text.replace(";", ",").split(",") if part.strip()]
    except ValueError:
        sizes = []
    if not sizes or min(sizes) < 1:
        where.error(f"{label}: {plain(repr(text))} is not a list of positive whole numbers such as 64, 64; "
                    f"keeping {', '.join(map(str, current))}")
        return list(current)
    if max(sizes) > limits.MAX_UNITS or len(sizes) > MAX_LAYERS:
        sizes = [min(size, limits.MAX_UNITS) for size in sizes[:MAX_LAYERS]]
        where.warning(f"{label}: {limits.describe('MAX_UNITS')}, and at most {MAX_LAYERS} layers; "
                      f"using {', '.join(map(str, sizes))}")
    return sizes


def strategy_picker(page: str, current: StrategyConfig, tasks: Sequence[str]) -> dict[str, Any]:
    """A weighting strategy from the registry, its idea and paper, and its settings; returns the ``strategy`` section.

    The menu and the form come from ``weighting.describe()``; a loss weight slider per task for ``static``.
    """
    items = {item["name"]: item for item in describe()}
    names = list(items)
    name = st.selectbox(
        "Weighting strategy", names, index=names.index(current.name) if current.name in names else 0,
        key=f"{page}.strategy", format_func=lambda item: f"{item} ({items[item]['kind']})",
        on_change=_forget, args=(f"{page}.strategy.",),
        help="loss: weights the task losses; gradient: combines the task gradients of the shared layers",
    )
    st.caption(f"{items[name]['summary']}  \n*{items[name]['paper']}*")
    own = current.hparams if current.name == name else {}
    if name == "static":
        return {"name": name, "weights": weight_sliders(page, own.get("weights"), tasks)}
    schema = items[name]["hparams"]
    chosen = space_picker(page, schema, own)
    return {"name": name, **chosen, **schema_form(f"{page}.strategy", schema, own, skip=frozenset({"space"}))}


SPACE_TRADE_OFF = ("Shared parameters: each task's exact gradient, where the method's guarantees hold, one backward "
                   "pass per task through the trunk. Shared representation: gradients at the trunk's output, one "
                   "backward pass through the trunk: near the cost of loss weighting, an approximation.")
SPACE_LABELS = {"parameters": "shared parameters (exact)", "representation": "shared representation (fast)"}


def space_picker(page: str, schema: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    """Where a gradient method takes its task gradients, with the trade-off in one line; {} for other methods."""
    spec = schema.get("properties", {}).get("space")
    if spec is None:
        return {}
    options = list(spec.get("enum", SPACE_LABELS))
    value = current.get("space", spec.get("default", options[0]))
    space = st.radio("Gradients of", options, index=options.index(value) if value in options else 0,
                     key=f"{page}.strategy.space", horizontal=True,
                     format_func=lambda option: SPACE_LABELS.get(option, option))
    st.caption(SPACE_TRADE_OFF)
    return {"space": space} if space != spec.get("default") or "space" in current else {}


def weight_sliders(page: str, current: Any, tasks: Sequence[str]) -> list[float]:
    """One loss weight slider per task (0 to 5), starting from the current weights or 1."""
    if isinstance(current, dict):
        start = [float(current.get(task, 1.0)) for task in tasks]
    elif isinstance(current, list | tuple) and len(current) == len(tasks):
        start = [float(value) for value in current]
    else:
        start = [1.0] * len(tasks)
    columns = st.columns(min(max(len(tasks), 1), 4))
    return [float(columns[index % len(columns)].slider(
        f"Weight of {plain(task)}", 0.0, 5.0, within(start[index], 0.0, 5.0, False), 0.05, key=f"{page}.weight.{task}",
    )) for index, task in enumerate(tasks)]


def training_settings(page: str, current: TrainConfig, select_options: Sequence[str] = ()) -> dict[str, Any]:
    """Epochs, batch size, learning rate, optimizer, seed and device; more in an expander. Returns ``train`` values.

    Two settings a row, so the form fits a side column. ``select_options``: what the best epoch may be kept
    by (``val_loss`` and the tasks' ``<task>.<metric>``), offered as a menu under More training settings.
    """
    row = st.columns(2)
    values: dict[str, Any] = {
        "epochs": int(bounded_input(row[0], "Epochs", TrainConfig, "epochs", current.epochs, 1, key=f"{page}.epochs",
                                    help=limits.describe("MAX_EPOCHS"))),
        "batch_size": int(bounded_input(row[1], "Batch size", TrainConfig, "batch_size", current.batch_size, 32,
                                        key=f"{page}.batch_size", help="0 trains on the whole split at once; "
                                                                        + limits.describe("MAX_BATCH_SIZE"))),
        "lr": float(bounded_input(row[0], "Learning rate", TrainConfig, "lr", current.lr, 1e-3, format="%g",
                                  key=f"{page}.lr")),
        "optimizer": row[1].selectbox("Optimizer", ["adam", "adamw", "sgd"],
                                      ["adam", "adamw", "sgd"].index(current.optimizer), key=f"{page}.optimizer"),
        "seed": int(bounded_input(
            row[0], "Seed", TrainConfig, "seed", current.seed, 1, key=f"{page}.seed",
            help="Initial weights, shuffling and dropout all follow this seed, so a run can be repeated.")),
    }
    devices = ["auto", *available_devices()]
    values["device"] = row[1].selectbox("Device", devices, devices.index(current.device) if current.device in devices
                                        else 0, key=f"{page}.device", help="auto takes CUDA or MPS when present")
    with st.expander("More training settings"):
        values.update(advanced_settings(page, current, select_options))
    return values


SELECT_LABELS = {None: "the last epoch", "val_loss": "val_loss (the summed validation loss)"}


def advanced_settings(page: str, current: TrainConfig, select_options: Sequence[str] = ()) -> dict[str, Any]:
    """Weight decay, clipping, learning-rate schedule, model selection (a menu) and early stopping."""
    row = st.columns(2)
    schedules = ["none", "cosine", "step", "plateau"]
    clip = row[1].number_input("Clip gradient norm", 0.0, field_range(TrainConfig, "clip_grad_norm")[1],
                               within(current.clip_grad_norm or 0.0, 0.0, field_range(TrainConfig, "clip_grad_norm")[1],
                                      False), 0.5, format="%g", key=f"{page}.clip_grad_norm", help="0: no clipping")
    options: list[str | None] = [None, *dict.fromkeys(["val_loss", *select_options])]
    select = st.selectbox("Keep the best epoch by", options,
                          options.index(current.select) if current.select in options else 0, key=f"{page}.select",
                          format_func=lambda option: SELECT_LABELS.get(option, option),
                          help="the validation value whose best epoch is kept and evaluated; "
                               "the last epoch: no selection")
    if current.select is not None and current.select not in options:
        st.caption(f"train.select = {plain(repr(current.select))} does not fit these tasks; the last epoch is kept")
    patience = st.number_input("Stop after epochs without improvement", 0, limits.MAX_EPOCHS,
                               int(within(current.patience or 0, 0, limits.MAX_EPOCHS, True)), key=f"{page}.patience",
                               help="0: never stop early (needs the setting above)")
    return {
        "weight_decay": float(bounded_input(row[0], "Weight decay", TrainConfig, "weight_decay", current.weight_decay,
                                            1e-4, format="%g", key=f"{page}.weight_decay")),
        "clip_grad_norm": float(clip) or None,
        "scheduler": row[0].selectbox("Learning-rate schedule", schedules, schedules.index(current.scheduler),
                                      key=f"{page}.scheduler"),
        "select": select,
        "patience": int(patience) or None,
    }
