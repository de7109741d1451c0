"""A sweep file: a base config, the keys to vary (a grid, random draws), the seeds and the metric to optimise.

```toml
base = "diabetes.toml"            # a config file (relative to this file), or a [base] table of settings
metric = "val.progression.mse"    # <split>.<task>.<metric>, as in results.json: split val or test
mode = "min"                      # min or max
seeds = 2                         # train.seed values from the base's own upwards, or a list [0, 1, 2]
samples = 4                       # random draws of the [random] keys (each crossed with the grid)

[grid]
"strategy.name" = ["equal", "pcgrad"]
"model.hidden" = [[32], [64, 64]]

[random]
"train.lr" = { log_uniform = [1e-4, 1e-1] }
"model.dropout" = { uniform = [0.0, 0.3] }
"train.batch_size" = { choice = [32, 64] }
"model.n_experts" = { int = [2, 6] }

[resources]
cpus = 1                          # per trial: what Ray reserves for it, and train.threads when the base sets none
gpus = 0

scheduler = "asha"                # optional, Ray only: stop trials that lag at rungs of epochs
```

Keys are dotted settings, as ``--set`` takes them; an unquoted key (``strategy.name = [...]`` under
``[grid]``) reads the same. ``expand`` gives every trial's config, each checked before anything trains;
every problem is a one-line ConfigError naming its key.
"""

from __future__ import annotations

import itertools
import json
import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from mtl_core import limits
from mtl_core.config_files import read_config_file
from mtl_core.errors import ConfigError

DISTRIBUTIONS = ("choice", "uniform", "log_uniform", "int")
SPLITS = ("val", "test")
Value = Any  # a setting's value: text, a number, a boolean or a list


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Distribution(_Strict):
    """One random key: exactly one of ``choice`` (values), ``uniform`` / ``log_uniform`` (low, high floats) or
    ``int`` (low, high integers, both included)."""

    choice: list[Value] | None = Field(None, min_length=1)
    uniform: tuple[float, float] | None = None
    log_uniform: tuple[float, float] | None = None
    int_: tuple[int, int] | None = Field(None, alias="int")

    @model_validator(mode="after")
    def _one(self) -> Distribution:
        given = [name for name in DISTRIBUTIONS if self.bounds(name) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of {', '.join(DISTRIBUTIONS)} (found {', '.join(given) or 'none'})")
        low_high = self.uniform or self.log_uniform or self.int_
        if low_high is not None and not low_high[0] <= low_high[1]:
            raise ValueError(f"{given[0]} = {list(low_high)}: the low end must not be above the high end")
        if self.log_uniform is not None and self.log_uniform[0] <= 0:
            raise ValueError(f"log_uniform = {list(self.log_uniform)}: both ends must be above 0")
        return self

    def bounds(self, name: str) -> Any:
        """The value given for distribution ``name`` (None when not given)."""
        return self.int_ if name == "int" else getattr(self, name)

    def draw(self, rng: random.Random) -> Value:
        """One value drawn from the distribution."""
        if self.choice is not None:
            return self.choice[rng.randrange(len(self.choice))]
        if self.uniform is not None:
            return rng.uniform(*self.uniform)
        if self.log_uniform is not None:
            low, high = self.log_uniform
            return math.exp(rng.uniform(math.log(low), math.log(high)))
        assert self.int_ is not None
        return rng.randint(*self.int_)


class Resources(_Strict):
    """What one trial needs: Ray reserves it; the local pool gives each worker ``cpus`` threads."""

    cpus: float = Field(1.0, gt=0, le=256)
    gpus: float = Field(0.0, ge=0, le=16)


class Asha(_Strict):
    """ASHA's settings (Li et al., 2020, "A System for Massively Parallel Hyperparameter Tuning"): a trial
    reaching ``grace_period`` × ``reduction_factor``^k epochs goes on only if it is in the best 1/``reduction_factor``
    of the trials that reached that rung."""

    grace_period: int = Field(1, ge=1)
    reduction_factor: float = Field(2.0, gt=1)


class SweepSpec(_Strict):
    """A validated sweep file (see the module docstring)."""

    base: dict[str, Any] | str = Field(default_factory=dict)
    metric: str
    mode: Literal["min", "max"] = "min"
    seeds: int | list[Annotated[int, Field(ge=0, le=limits.MAX_SEED)]] = 1
    samples: int = Field(1, ge=1)
    sample_seed: int = Field(0, ge=0, le=limits.MAX_SEED)  # the random draws' own generator
    grid: dict[str, list[Value]] = Field(default_factory=dict)
    random: dict[str, Distribution] = Field(default_factory=dict)
    resources: Resources = Field(default_factory=Resources)
    scheduler: Literal["none", "asha"] = "none"
    asha: Asha = Field(default_factory=Asha)
    max_concurrent: int | None = Field(None, ge=1)

    @field_validator("metric")
    @classmethod
    def _metric(cls, value: str) -> str:
        parts = value.split(".")
        if len(parts) != 3 or parts[0] not in SPLITS or not all(parts):
            raise ValueError(f"metric = {value!r} must read <split>.<task>.<metric> with split val or test, "
                             f"e.g. 'val.quality.mse'")
        return value

    @field_validator("grid")
    @classmethod
    def _grid(cls, value: dict[str, list[Value]]) -> dict[str, list[Value]]:
        for key, values in value.items():
            if not values:
                raise ValueError(f"@{key}: give at least one value")
        return value

    @property
    def seed_values(self) -> list[int] | None:
        """The seeds given as a list, or None when given as a count (counted from the base's train.seed)."""
        return self.seeds if isinstance(self.seeds, list) else None


@dataclass(frozen=True, slots=True)
class Trial:
    """One trial: its place in the sweep, the values of the swept keys, its seed and its checked, resolved config."""

    index: int
    params: dict[str, Value]  # swept key -> value (train.seed apart)
    seed: int
    config: dict[str, Any]  # the resolved ExperimentConfig's to_dict()

    @property
    def label(self) -> str:
        """``strategy.name=pcgrad train.lr=0.00123 seed=1``: how the trial is named in the store and the tables."""
        shown = [f"{key}={_short(value)}" for key, value in self.params.items()]
        return " ".join([*shown, f"seed={self.seed}"])


def _short(value: Value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return json.dumps(value, separators=(",", ":")) if not isinstance(value, str) else value


def source_name(path: str | Path) -> str:
    """How messages name a sweep file: ``sweep file 'grid.toml'``."""
    return f"sweep file {_shown(Path(path).name)}"


def load_sweep(path: str | Path) -> tuple[SweepSpec, dict[str, Any]]:
    """The validated sweep file and its base config's settings (read from the file it names, if any)."""
    values = read_config_file(path)
    spec = parse_sweep(values, source_name(path))
    if isinstance(spec.base, str):
        base_path = Path(spec.base) if Path(spec.base).is_absolute() else Path(path).parent / spec.base
        return spec, _relative_data_path(read_config_file(base_path), base_path)
    return spec, dict(spec.base)


def _relative_data_path(values: dict[str, Any], path: Path) -> dict[str, Any]:
    """A base file's relative ``data.path`` taken from the base file's folder, as ``load_config`` does."""
    data = values.get("data")
    if isinstance(data, dict) and isinstance(data.get("path"), str) and not Path(data["path"]).is_absolute():
        candidate = path.parent / data["path"]
        if candidate.exists():
            data["path"] = str(candidate)
    return values


def parse_sweep(values: Mapping[str, Any], source: str = "sweep") -> SweepSpec:
    """Validate a sweep's settings; ConfigError naming the key (``random.train.lr``) otherwise."""
    flat = {**values, "grid": _flatten(values.get("grid"), lambda leaf: isinstance(leaf, list)),
            "random": _flatten(values.get("random"), lambda leaf: isinstance(leaf, dict) and bool(
                set(leaf) & set(DISTRIBUTIONS)))}
    try:
        return SweepSpec.model_validate(flat)
    except ValidationError as error:
        problem = error.errors()[0]
        where = ".".join(str(part) for part in problem["loc"] if not _is_type_tag(part))
        message = str(problem["msg"]).removeprefix("Value error, ")
        if message.startswith("@"):
            field, _, message = message[1:].partition(": ")
            where = f"{where}.{field}"
        found = f" = {_shown(problem['input'])}" if "input" in problem and not isinstance(problem["input"], dict) else ""
        if problem["type"] == "extra_forbidden":
            message = (f"unknown setting; a sweep takes: {', '.join(SweepSpec.model_fields)}"
                       if "." not in where else "unknown setting")
        raise ConfigError(f"{source}: {where or 'sweep'}{found}: {message}") from None


def _flatten(section: Any, is_leaf: Any, prefix: str = "") -> Any:
    """A table of dotted keys from nested tables (``strategy = {name = [...]}`` -> ``strategy.name``)."""
    if not isinstance(section, dict):
        return {} if section is None else section
    flat: dict[str, Any] = {}
    for key, value in section.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and not is_leaf(value):
            flat.update(_flatten(value, is_leaf, dotted + "."))
        else:
            flat[dotted] = value
    return flat


def _is_type_tag(part: object) -> bool:
    return isinstance(part, str) and ("[" in part or part in {"str", "int", "float", "bool", "none"})


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:79] + "…"


def draws(spec: SweepSpec) -> list[dict[str, Value]]:
    """Every combination of swept values (train.seed apart): the grid's product, each crossed with ``samples``
    random draws (one generator seeded with ``sample_seed``, so the same file gives the same trials)."""
    if spec.samples > 1 and not spec.random:
        raise ConfigError(f"samples = {spec.samples}: random search draws from the keys under [random], and there "
                          f"are none; add some, or leave samples out")
    rng = random.Random(spec.sample_seed)
    grid = [dict(zip(spec.grid, combo, strict=True)) for combo in itertools.product(*spec.grid.values())]
    combos = []
    for point in grid:
        for _ in range(spec.samples):
            combos.append({**point, **{key: dist.draw(rng) for key, dist in spec.random.items()}})
    return combos


def count_trials(spec: SweepSpec) -> int:
    """How many trials the sweep runs (draws × seeds), without building them."""
    seeds = len(spec.seed_values) if spec.seed_values is not None else int(spec.seeds)  # type: ignore[arg-type]
    return math.prod(len(values) for values in spec.grid.values()) * spec.samples * seeds


def expand(spec: SweepSpec, base: Mapping[str, Any], source: str = "sweep") -> list[Trial]:
    """Every trial, its config built from the base with the swept values as overrides and checked (strategy
    hyper-parameters, architecture settings) before anything trains; ConfigError naming the swept key."""
    from mtl_core.config import ExperimentConfig, apply_overrides
    from mtl_core.experiment import check

    base_config = _checked(ExperimentConfig.from_dict, base, f"{source}: base")
    seeds = spec.seed_values if spec.seed_values is not None else _counted_seeds(spec, base_config.train.seed)
    trials: list[Trial] = []
    for params in draws(spec):
        values = base_config.model_dump(mode="json", exclude_unset=True)
        for key, value in params.items():
            where = f"{source}: {_section(spec, key)}.{key} = {_shown(value)}"
            _checked(lambda: apply_overrides(values, [f"{key}={json.dumps(value)}"]), None, where)
        for seed in seeds:
            seeded = {**values, "train": {**values.get("train", {}), "seed": seed}}
            if seeded["train"].get("threads") is None:
                seeded["train"]["threads"] = max(1, int(spec.resources.cpus))
            config = _checked(lambda: check(ExperimentConfig.from_dict(seeded)), None,
                              f"{source}: {_where(params, spec)}")
            _checked(lambda: _check_metric(spec.metric, config), None, source)
            trials.append(Trial(len(trials), params, seed, config.to_dict()))
    return trials


def _counted_seeds(spec: SweepSpec, first: int) -> list[int]:
    count = int(spec.seeds)  # type: ignore[arg-type]
    if count < 1:
        raise ConfigError(f"seeds = {count}: give at least 1 seed, or a list of seeds")
    return list(range(first, first + count))


def _section(spec: SweepSpec, key: str) -> str:
    return "grid" if key in spec.grid else "random"


def _where(params: Mapping[str, Value], spec: SweepSpec) -> str:
    """``grid.train.lr = 0.1, random.model.dropout = 0.2`` (the trial's swept values), or ``base``."""
    return ", ".join(f"{_section(spec, key)}.{key} = {_shown(value)}" for key, value in params.items()) or "base"


def _checked(work: Any, argument: Any, where: str) -> Any:
    """``work(argument)`` (or ``work()``), its ConfigError prefixed with where the values came from."""
    try:
        return work(argument) if argument is not None else work()
    except ConfigError as error:
        raise type(error)(f"{where}: {error}") from None


def _check_metric(metric: str, config: Any) -> None:
    """ConfigError unless the metric names a task of the config and a metric that applies to it."""
    from mtl_core.tasks import metrics_for

    _, task_name, name = metric.split(".")
    tasks = {task.name: task for task in config.tasks}
    if task_name not in tasks:
        raise ConfigError(f"metric = {metric!r}: no task named {task_name!r}; the tasks are {', '.join(tasks)}")
    task = tasks[task_name]
    if name not in metrics_for(task.kind) or (task.metrics and name not in task.metrics):
        known = task.metrics or metrics_for(task.kind)
        raise ConfigError(f"metric = {metric!r}: task {task_name!r} ({task.kind}) computes {', '.join(known)}")


def metric_value(results: Mapping[str, Any], metric: str) -> float | None:
    """The metric's final value in a results dict (None when the run has none: diverged, stopped, failed)."""
    split, task, name = metric.split(".")
    value = results.get("metrics", {}).get(split, {}).get(task, {}).get(name)
    return float(value) if isinstance(value, int | float) and math.isfinite(value) else None


def epoch_value(entry: Mapping[str, Any], metric: str) -> float | None:
    """The metric's validation value at one epoch (a history entry), what an early-stopping scheduler compares."""
    _, task, name = metric.split(".")
    value = entry.get("metrics", {}).get(task, {}).get(name)
    return float(value) if isinstance(value, int | float) and math.isfinite(value) else None


def best_index(values: Sequence[float | None], mode: str) -> int | None:
    """The position of the best value (None when there is none).

    >>> best_index([0.5, None, 0.25], "min"), best_index([0.5, None, 0.25], "max"), best_index([None], "min")
    (2, 0, None)
    """
    scored = [(value if mode == "max" else -value, -index) for index, value in enumerate(values) if value is not None]
    return -max(scored)[1] if scored else None
