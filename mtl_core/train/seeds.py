"""Which runs can train together in one loop (``train_together``), and why not when they cannot."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from mtl_core.config import ExperimentConfig
from mtl_core.errors import MTLError
from mtl_core.weighting import LossWeighting, create


def together_reason(configs: Sequence[ExperimentConfig]) -> str | None:
    """None when ``configs`` can train together with the results of separate runs; otherwise why not.

    Runs train together when they differ in ``train.seed`` only, with any architecture, dropout, batch norm,
    clipping, selection and early stopping, and any loss-based strategy; gradient-based strategies with full
    batches only (a mini-batch with no labelled row skips the shared update of one run, which one optimiser
    over all runs cannot skip for one slice); and a learning-rate schedule that is the same for every run
    (not 'plateau').

    >>> pcgrad = ExperimentConfig.from_dict({"strategy": {"name": "pcgrad"}, "train": {"batch_size": 32}})
    >>> together_reason([pcgrad])[:40]
    "strategy 'pcgrad' with mini-batches: a b"
    >>> together_reason([ExperimentConfig.from_dict({"train": {"seed": seed}}) for seed in range(5)]) is None
    True
    """
    if not configs:
        return "there are no runs to train"
    difference = first_difference(configs)
    if difference is not None:
        return f"the runs differ in {difference}, not only in train.seed"
    return strategy_reason(configs[0]) or training_reason(configs[0])


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


def strategy_reason(config: ExperimentConfig) -> str | None:
    """Why the strategy cannot weigh each run on its own in one shared step, or None."""
    name = config.strategy.name
    try:
        strategy = create(name, **config.strategy.hparams)
    except MTLError as error:
        return str(error)
    if not isinstance(strategy, LossWeighting) and config.train.batch_size != 0:
        return (f"strategy {name!r} with mini-batches: a batch without a labelled row skips one run's shared "
                f"update, which one optimiser over all runs cannot skip; use train.batch_size = 0 (full batch)")
    return None


def training_reason(config: ExperimentConfig) -> str | None:
    """Why the training settings cannot be shared by one optimiser over all runs, or None."""
    if config.train.scheduler == "plateau":
        return ("train.scheduler = 'plateau' lowers each run's learning rate at its own epoch; one optimiser "
                "steps every run with one rate")
    return None
