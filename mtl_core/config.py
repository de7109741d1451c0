"""ExperimentConfig: the validated settings of one experiment, read from TOML, YAML or JSON.

Every bad value becomes a ConfigError that names its dotted key (``data.test_size``,
``tasks.0.loss``), so the CLI and the pages can say exactly what to fix.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic.fields import FieldInfo

from mtl_core import limits
from mtl_core.bounds import limit_note, limited, shown
from mtl_core.config_files import read_config_file
from mtl_core.errors import ConfigError
from mtl_core.tasks import TaskSpec

DEFAULT_DATASET = "diabetes"
MAX_LAYERS = 32  # hidden layers or stages of a trunk (no limit in mtl_core.limits names depth yet)
LR_RANGE = (1e-6, 1e6)  # the learning rates the Train page offers; 1e6 still shows what divergence looks like
Units = Annotated[int, Field(le=limits.MAX_UNITS)]  # at least 1: checked by ModelConfig with a clearer message


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", coerce_numbers_to_str=True)


class DataConfig(_Section):
    """Where the table comes from and how its rows are split."""

    dataset: str | None = None  # a built-in name; the default is "diabetes" when no path is given
    path: str | None = None  # a CSV/TSV file instead of a built-in data set
    test_size: float = Field(0.2, ge=0.01, le=0.9)  # the Data page's range: a test set of 1 % to 90 % of the rows
    val_size: float = Field(0.1, ge=0.0, le=0.9)
    split_seed: int = Field(42, ge=0, le=limits.MAX_SEED)
    stratify: bool = True  # stratify the split on the classification labels where the counts allow
    features: tuple[str, ...] | None = None  # default: every column that no task uses
    task_id_column: str | None = None  # routed rows: this column says which task a row is labelled for
    labels: str | None = None  # image folder (path is a folder): the CSV naming each row's file; default labels.csv
    image_column: str = "file"  # image folder: the labels CSV's column of file names
    image_size: int = limited("MAX_IMAGE_SIDE", 64, ge=1)  # image folder: every image is resized to this side
    channels: Literal[1, 3] = 1  # image folder: 1 grayscale, 3 RGB
    params: dict[str, Any] = Field(default_factory=dict)  # a generated data set's hyper-parameters

    @model_validator(mode="after")
    def _check(self) -> DataConfig:
        if self.dataset is not None and self.path is not None:
            raise ValueError("@path: give either dataset or path, not both")
        if self.test_size + self.val_size >= 1.0:
            raise ValueError(
                f"@val_size: test_size + val_size = {self.test_size + self.val_size:g} leaves no training rows; "
                f"keep it below 1"
            )
        return self

    @property
    def source(self) -> str:
        """The built-in name or the file path this config reads."""
        return self.path or self.dataset or DEFAULT_DATASET


class ModelConfig(BaseModel):
    """The architecture and its trunk; any other key is a hyper-parameter of the architecture
    (``n_experts`` for mmoe, ``lam`` for soft_sharing, ...), checked against it when the model is built."""

    model_config = ConfigDict(frozen=True, extra="allow", coerce_numbers_to_str=True)

    architecture: str = "hps"
    trunk: Literal["mlp", "cnn"] = "mlp"
    # mlp: units per layer (defaults: docs/defaults.md)
    hidden: tuple[Units, ...] = Field((128, 128), min_length=1, max_length=MAX_LAYERS,
                                      json_schema_extra={"limit": "MAX_UNITS"})
    activation: Literal["relu", "gelu", "tanh", "silu", "leaky_relu"] = "relu"
    dropout: float = Field(0.0, ge=0.0, lt=1.0)
    norm: Literal["none", "batch", "layer"] = "none"
    channels: tuple[Units, ...] = Field((16, 32), min_length=1, max_length=MAX_LAYERS,
                                        json_schema_extra={"limit": "MAX_UNITS"})  # cnn: channels of each stage
    blocks: int = Field(1, ge=1, le=8)  # cnn: residual blocks per stage

    @property
    def hparams(self) -> dict[str, Any]:
        """The architecture's own hyper-parameters (the keys this class does not declare)."""
        return dict(self.model_extra or {})

    @model_validator(mode="after")
    def _check(self) -> ModelConfig:
        if any(size < 1 for size in self.hidden):
            raise ValueError(f"@hidden: hidden = {shown(self.hidden)}: every layer needs at least 1 unit")
        if any(size < 1 for size in self.channels):
            raise ValueError(f"@channels: channels = {shown(self.channels)}: every stage needs at least 1 channel")
        return self


class StrategyConfig(BaseModel):
    """The weighting strategy's name; every other key is one of its hyper-parameters."""

    model_config = ConfigDict(frozen=True, extra="allow")

    name: str = "equal"

    @property
    def hparams(self) -> dict[str, Any]:
        """The hyper-parameters, without the name."""
        return dict(self.model_extra or {})


class TrainConfig(_Section):
    """How the model is optimised."""

    epochs: int = limited("MAX_EPOCHS", 100, ge=1)
    batch_size: int = limited("MAX_BATCH_SIZE", 0, ge=0)  # 0 = full batch (cut to fit MTL_MAX_ACTIVATIONS)
    # with hidden and weight_decay, near the best on every built-in data set
    lr: float = Field(0.003, ge=LR_RANGE[0], le=LR_RANGE[1])
    optimizer: Literal["adam", "adamw", "sgd"] = "adam"
    momentum: float = Field(0.0, ge=0.0, lt=1.0)  # sgd only
    # (docs/defaults.md); without it small tables overfit in 100 epochs
    weight_decay: float = Field(0.03, ge=0.0, le=10.0)
    clip_grad_norm: float | None = Field(None, gt=0.0, le=1e6)  # max total norm of the gradient, None = no clipping
    seed: int = Field(0, ge=0, le=limits.MAX_SEED)
    device: Literal["auto", "cpu", "cuda", "mps"] = "auto"
    threads: int | None = Field(None, ge=1, le=256)  # CPU threads while this run trains (process-wide); None: PyTorch's
    select: str | None = None  # "<task>.<metric>" or "val_loss": keep the best validation epoch; None = the last
    patience: int | None = limited("MAX_EPOCHS", None, ge=1)  # stop after this many epochs without a better ``select``
    scheduler: Literal["none", "cosine", "step", "plateau"] = "none"  # learning rate per epoch
    # step: epochs between decays; plateau: epochs without improvement first
    step_size: int = limited("MAX_EPOCHS", 10, ge=1)
    gamma: float = Field(0.1, gt=0.0, lt=1.0)  # step, plateau: the factor each decay multiplies the lr by
    diagnostics: bool = Field(False, description=(
        "record per epoch how the tasks' gradients of the shared parameters agree (cosines, conflicts, norms, "
        "angles to the update, implied weights), their lookahead affinity and what the model's gates do; "
        "shown on the Insight page; the trained numbers stay the same, only slower"))

    @model_validator(mode="after")
    def _check_selection(self) -> TrainConfig:
        if self.select is not None and self.select != "val_loss" and "." not in self.select.strip(". "):
            raise ValueError(f'@select: select = {self.select!r} must read "<task>.<metric>" (e.g. "infected.auc") '
                             f'or "val_loss" (the sum of the validation losses)')
        if self.patience is not None and self.select is None:
            raise ValueError(f"@patience: patience = {self.patience} stops a run when train.select stops improving, "
                             f'but select is not set; add select = "val_loss" or "<task>.<metric>"')
        return self


class ExperimentConfig(_Section):
    """Everything one run needs. ``tasks`` empty means the data set's default tasks."""

    data: DataConfig = Field(default_factory=DataConfig)
    tasks: tuple[TaskSpec, ...] = ()
    model: ModelConfig = Field(default_factory=ModelConfig)
    strategy: StrategyConfig = Field(default_factory=StrategyConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)

    @model_validator(mode="after")
    def _check_task_names(self) -> ExperimentConfig:
        names = [task.name for task in self.tasks]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise ValueError(f"@tasks: task names must be unique; {', '.join(map(repr, twice))} appears more than once")
        return self

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values, loadable again with ``from_dict``; unset defaults included."""
        return self.model_dump(mode="json")

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> ExperimentConfig:
        """Validate a nested mapping; every problem is reported with its dotted key."""
        try:
            return cls.model_validate(dict(values))
        except ValidationError as error:
            raise ConfigError(describe_validation_error(error)) from None

    def to_toml(self) -> str:
        """The config as a TOML file that ``load_config`` reads back to an equal config."""
        return dump_toml(self.to_dict())

    def with_overrides(self, overrides: Iterable[str]) -> ExperimentConfig:
        """A copy with dotted ``key=value`` overrides applied (``tasks.0.loss=l1``)."""
        values = self.model_dump(mode="json", exclude_unset=True)  # unset keys take their (new) defaults again
        apply_overrides(values, overrides)
        return ExperimentConfig.from_dict(values)


def load_config(path: str | Path, overrides: Iterable[str] = ()) -> ExperimentConfig:
    """Read a TOML, YAML or JSON file and apply dotted overrides.

    A relative ``data.path`` in the file is taken relative to the file's folder.
    """
    values = read_config_file(path)
    apply_overrides(values, overrides)
    data = values.get("data")
    if isinstance(data, dict) and isinstance(data.get("path"), str) and not Path(data["path"]).is_absolute():
        candidate = Path(path).parent / data["path"]
        if candidate.exists() and not Path(data["path"]).exists():
            data["path"] = str(candidate)
    return ExperimentConfig.from_dict(values)


def dump_toml(values: Mapping[str, Any]) -> str:
    """TOML text for a config mapping: one table per section, ``[[tasks]]`` per task, None values left out.

    >>> print(dump_toml({"data": {"dataset": "wine-red", "params": {}}, "tasks": [{"name": "q", "bins": None}]}))
    [data]
    dataset = "wine-red"
    params = {}
    <BLANKLINE>
    [[tasks]]
    name = "q"
    <BLANKLINE>
    """
    blocks = []
    for section, body in values.items():
        tables = body if isinstance(body, list) else [body]
        header = f"[[{section}]]" if isinstance(body, list) else f"[{section}]"
        for table in tables:
            lines = [f"{key} = {_toml_value(value)}" for key, value in table.items() if value is not None]
            blocks.append("\n".join([header, *lines]) + "\n")
    return "\n".join(blocks)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        text = repr(value)
        return {"nan": "nan", "inf": "inf", "-inf": "-inf"}.get(text, text)
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(item) for item in value if item is not None) + "]"
    if isinstance(value, Mapping):
        items = ", ".join(f"{_toml_string(str(k))} = {_toml_value(v)}" for k, v in value.items() if v is not None)
        return "{ " + items + " }" if items else "{}"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def _toml_string(text: str) -> str:
    """A TOML basic string: JSON's escapes (valid in TOML), non-ASCII kept, DEL escaped as TOML requires."""
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007F")


def parse_value(text: str) -> Any:
    """An override's value: JSON when it parses (numbers, lists, true/false, null), else the text.

    >>> parse_value("[128,64]"), parse_value("1e-3"), parse_value("equal")
    ([128, 64], 0.001, 'equal')
    """
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def apply_overrides(values: dict[str, Any], overrides: Iterable[str]) -> None:
    """Apply dotted overrides in order. When they change ``strategy.name``, the old method's
    hyper-parameters are dropped (those given in the same overrides stay): they do not apply to another method.
    """
    strategy = values.get("strategy")
    before = strategy.get("name", "equal") if isinstance(strategy, dict) else "equal"
    given = set()
    for override in overrides:
        apply_override(values, override)
        given.add(override.partition("=")[0].strip())
    strategy = values.get("strategy")
    if isinstance(strategy, dict) and strategy.get("name", "equal") != before:
        values["strategy"] = {key: value for key, value in strategy.items()
                              if key == "name" or f"strategy.{key}" in given}


def apply_override(values: dict[str, Any], override: str) -> None:
    """Set ``values[a][b]... = value`` from ``"a.b=value"``; list items by index (``tasks.0.loss``)."""
    key, sep, raw = override.partition("=")
    key, raw = key.strip(), raw.strip()
    if not sep or not key:
        raise ConfigError(f"override {override!r} must look like key=value, e.g. strategy.name=equal")
    parts = key.split(".")
    node: Any = values
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        where = ".".join(parts[: depth + 1])
        if isinstance(node, list):
            if not part.isdigit() or int(part) > len(node):
                raise ConfigError(
                    f"{where}: index {part!r} is out of range; {len(node)} items exist, "
                    f"so use an index below {len(node)}, or {len(node)} to add one"
                )
            index = int(part)
            if index == len(node):
                node.append({})
            if last:
                node[index] = parse_value(raw)
            else:
                node = node[index]
            continue
        if not isinstance(node, dict):
            raise ConfigError(f"{where}: {'.'.join(parts[:depth])} is a value, not a table of settings")
        if last:
            node[part] = parse_value(raw)
        else:
            node = node.setdefault(part, [] if parts[depth + 1].isdigit() else {})


def describe_validation_error(error: ValidationError) -> str:
    """One line per problem: the dotted key, the value found and what is expected."""
    lines: list[str] = []
    problems = error.errors()
    for problem in problems:
        key = ".".join(str(part) for part in problem["loc"] if not _is_type_tag(part))
        if problem["type"] == "too_short" and any(other["loc"][:len(problem["loc"])] == problem["loc"]
                                                  and len(other["loc"]) > len(problem["loc"]) for other in problems):
            continue  # pydantic counts the items that failed as missing: their own problems say more
        if any(line.startswith(f"{key} = ") or line.startswith(f"{key}: ") for line in lines):
            continue  # one message per key: a field with several types fails once per type
        if problem["type"] == "extra_forbidden":
            lines.append(f"{key}: unknown setting{_suggest_key(problem['loc'])}")
            continue
        message = problem["msg"].removeprefix("Value error, ")
        if message.startswith("@"):  # a model rule that names its own field (TaskSpec)
            for part in message.split("; @"):
                field, _, text = part.lstrip("@").partition(": ")
                lines.append(f"{key}.{field}: {text}" if key else f"{field}: {text}")
            continue
        if problem["type"] == "less_than_equal" and (note := limit_note(_field_at(problem["loc"]))):
            message = f"{note}; lower it, or raise the variable where the server runs"
        if "input" in problem and not isinstance(problem["input"], dict) and key:
            lines.append(f"{key} = {shown(problem['input'])}: {message}")
        else:
            lines.append(f"{key or 'config'}: {message}")
    return "; ".join(lines)


def _field_at(loc: tuple[Any, ...]) -> FieldInfo | None:
    """The settings field a problem's location ends in (the list a list item belongs to), or None."""
    model: Any = ExperimentConfig
    field = None
    for part in loc:
        fields = getattr(model, "model_fields", None)
        if isinstance(part, int) or _is_type_tag(part) or not isinstance(fields, dict) or part not in fields:
            continue
        field = fields[part]
        model = field.annotation
    return field


def _is_type_tag(part: object) -> bool:
    """Pydantic names the member of a union that failed ('str', 'tuple[float, ...]'): not part of the key."""
    return isinstance(part, str) and ("[" in part or part in {"str", "int", "float", "bool", "none"})


def _suggest_key(loc: tuple[Any, ...]) -> str:
    sections: dict[str, type[BaseModel]] = {
        "data": DataConfig, "model": ModelConfig, "train": TrainConfig, "tasks": TaskSpec,
    }
    section = sections.get(str(loc[0]), ExperimentConfig) if len(loc) > 1 else ExperimentConfig
    known = list(section.model_fields)
    close = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.6)
    hint = f". Did you mean {close[0]!r}?" if close else ""
    return f"{hint} Known keys here: {', '.join(known)}"
