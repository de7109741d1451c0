"""Which runs can train together as one stacked model, and why not when they cannot."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from mtl_core.config import ExperimentConfig
from mtl_core.errors import MTLError
from mtl_core.train.batched.engines import ENGINES, EngineName
from mtl_core.train.batched.grouped import GROUPED_ARCHITECTURES
from mtl_core.weighting import LossWeighting, create


def batchable(configs: Sequence[ExperimentConfig], engine: EngineName = "exact") -> str | None:
    """None when ``configs`` can train together with the results of separate runs; otherwise why not.

    ``exact`` (each model its own forward pass, one optimiser over the stacked parameters) takes runs that
    differ in ``train.seed`` only, with any architecture, dropout, batch norm, clipping, selection and early
    stopping, and any loss-based strategy; gradient-based strategies with full batches only (a mini-batch with
    no labelled row skips the shared update of one run, which one optimiser over all runs cannot skip for one
    slice); and a learning-rate schedule that is the same for every run (not 'plateau'). ``grouped`` (one
    batched pass for all models) takes MLP hps, routed and single_task models without batch norm, trained by
    a strategy that weighs each run's losses from those losses alone.

    >>> batchable([ExperimentConfig.from_dict({"strategy": {"name": "pcgrad"}, "train": {"batch_size": 32}})])[:40]
    "strategy 'pcgrad' with mini-batches: a b"
    >>> batchable([ExperimentConfig.from_dict({"train": {"seed": seed}}) for seed in range(5)]) is None
    True
    """
    if engine not in ENGINES:
        return f"no engine {engine!r} (engines: {', '.join(ENGINES)})"
    if not configs:
        return "there are no runs to train"
    difference = first_difference(configs)
    if difference is not None:
        return f"the runs differ in {difference}, not only in train.seed"
    config = configs[0]
    if engine == "grouped":
        return model_reason(config) or strategy_reason(config, grouped=True) or training_reason(config)
    return strategy_reason(config, grouped=False) or training_reason(config)


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
    """Why the grouped engine cannot run the model, or None."""
    model = config.model
    if model.architecture not in GROUPED_ARCHITECTURES:
        return (f"architecture {model.architecture!r} has no grouped form (grouped: "
                f"{', '.join(GROUPED_ARCHITECTURES)}); the exact engine runs it")
    if model.trunk != "mlp":
        return f"model.trunk = {model.trunk!r} has no grouped form (it uses batch norm); the exact engine runs it"
    if model.norm == "batch":
        return "model.norm = 'batch' has no grouped form (running statistics per model); the exact engine runs it"
    return None


def strategy_reason(config: ExperimentConfig, grouped: bool) -> str | None:
    """Why the strategy cannot weigh each run on its own in one shared step, or None."""
    name = config.strategy.name
    try:
        strategy = create(name, **config.strategy.hparams)
    except MTLError as error:
        return str(error)
    if not isinstance(strategy, LossWeighting):
        if grouped:
            return f"strategy {name!r} combines per-task gradients of each model; the exact engine runs it"
        if config.train.batch_size != 0:
            return (f"strategy {name!r} with mini-batches: a batch without a labelled row skips one run's shared "
                    f"update, which one optimiser over all runs cannot skip; use train.batch_size = 0 (full batch)")
    elif grouped and strategy.grad_norms is not None:
        where = "last shared layer" if strategy.grad_norms == "last_layer" else "shared parameters"
        return f"strategy {name!r} needs the gradient norms of each model's {where}; the exact engine runs it"
    return None


def training_reason(config: ExperimentConfig) -> str | None:
    """Why the training settings cannot be shared by one optimiser over all runs, or None."""
    if config.train.scheduler == "plateau":
        return ("train.scheduler = 'plateau' lowers each run's learning rate at its own epoch; one optimiser "
                "steps every run with one rate")
    return None
