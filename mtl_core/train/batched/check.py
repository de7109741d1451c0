"""Which runs can train together as one stacked model, and why not when they cannot."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from mtl_core.config import ExperimentConfig
from mtl_core.errors import MTLError
from mtl_core.train.batched.stack import GROUPED_ARCHITECTURES
from mtl_core.weighting import LossWeighting, create


def batchable(configs: Sequence[ExperimentConfig]) -> str | None:
    """None when ``configs`` can train as one stacked model with the results of separate runs; else why not.

    They can when they differ in ``train.seed`` only; the architecture has a grouped form (hps, routed,
    single_task on an MLP trunk, without batch norm); the strategy weighs each run's losses from those
    losses alone (not from gradients or gradient norms); and the learning-rate schedule is the same for
    every run (not 'plateau'). Dropout, gradient clipping, model selection and early stopping are per run.

    >>> batchable([ExperimentConfig.from_dict({"strategy": {"name": "pcgrad"}})])
    "strategy 'pcgrad' combines per-task gradients of each model's shared parameters"
    """
    if not configs:
        return "there are no runs to train"
    difference = first_difference(configs)
    if difference is not None:
        return f"the runs differ in {difference}, not only in train.seed"
    config = configs[0]
    return model_reason(config) or strategy_reason(config) or training_reason(config)


def first_difference(configs: Sequence[ExperimentConfig]) -> str | None:
    """The first dotted key (other than train.seed) whose value is not the same in every config."""
    flat = [dict(_flatten(config.to_dict())) for config in configs]
    for values in flat:
        values.pop("train.seed", None)
    for key in sorted(set().union(*flat)):
        if any(values.get(key) != flat[0].get(key) for values in flat[1:]):
            return key
    return None


def _flatten(values: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            yield from _flatten(value, name + ".")
        elif isinstance(value, list) and value and all(isinstance(item, Mapping) for item in value):
            for index, item in enumerate(value):
                yield from _flatten(item, f"{name}.{index}.")
            yield f"{name}.count", len(value)
        else:
            yield name, value


def model_reason(config: ExperimentConfig) -> str | None:
    """Why the model cannot be stacked, or None."""
    model = config.model
    if model.architecture not in GROUPED_ARCHITECTURES:
        return (f"architecture {model.architecture!r} has no stacked form (stacked: "
                f"{', '.join(GROUPED_ARCHITECTURES)})")
    if model.trunk != "mlp":
        return f"model.trunk = {model.trunk!r} uses batch norm, whose running statistics each model keeps for itself"
    if model.norm == "batch":
        return "model.norm = 'batch' keeps running statistics per model, which the stacked model does not carry"
    return None


def strategy_reason(config: ExperimentConfig) -> str | None:
    """Why the strategy cannot weigh each run's losses on its own, or None."""
    name = config.strategy.name
    try:
        strategy = create(name, **config.strategy.hparams)
    except MTLError as error:
        return str(error)
    if not isinstance(strategy, LossWeighting):
        return f"strategy {name!r} combines per-task gradients of each model's shared parameters"
    if strategy.grad_norms is not None:
        where = "last shared layer" if strategy.grad_norms == "last_layer" else "shared parameters"
        return f"strategy {name!r} needs the gradient norms of each model's {where}"
    return None


def training_reason(config: ExperimentConfig) -> str | None:
    """Why the training settings cannot be shared by one optimiser over all runs, or None."""
    if config.train.scheduler == "plateau":
        return ("train.scheduler = 'plateau' lowers each run's learning rate at its own epoch; one optimiser "
                "steps every run with one rate")
    return None
