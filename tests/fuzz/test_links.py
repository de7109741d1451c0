"""Fuzzing share links: any query string gives a config and warnings, and the config it gives is within every limit,
its size checked before anything big is allocated.

Set ``MTL_FUZZ_EXAMPLES`` (e.g. 2000) for a longer run than CI's.
"""

from __future__ import annotations

import os
import resource
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from mtl_core import limits
from mtl_core.compare.settings import comparison_epochs, settings_from_query
from mtl_core.config import ExperimentConfig, ModelConfig
from mtl_core.data import DATASETS, default_tasks
from mtl_core.errors import ConfigError
from mtl_core.models import build_model
from mtl_core.settings import validate
from mtl_core.share import SharedSetup, from_query

EXAMPLES = int(os.environ.get("MTL_FUZZ_EXAMPLES", "0") or 0)
FUZZ = settings(max_examples=max(EXAMPLES, 150), deadline=None, suppress_health_check=list(HealthCheck))
BUILD = settings(max_examples=max(EXAMPLES, 40), deadline=None, suppress_health_check=list(HealthCheck))

KNOWN_KEYS = [
    *(f"data.{name}" for name in ("dataset", "test_size", "val_size", "split_seed", "image_size", "channels",
                                  "params", "path", "features", "stratify")),
    *(f"data.params.{name}" for name in ("n_rows", "n_features", "n_sines", "n_images", "size", "n_tasks",
                                         "correlation", "noise", "seed", "kind")),
    *(f"model.{name}" for name in ("architecture", "trunk", "hidden", "channels", "blocks", "dropout", "norm",
                                   "n_experts", "tower_hidden", "levels", "n_shared_experts", "graph", "lam")),
    *(f"strategy.{name}" for name in ("name", "alpha", "seed", "weights", "space", "c", "temperature")),
    *(f"train.{name}" for name in ("epochs", "batch_size", "lr", "seed", "patience", "select", "threads",
                                   "weight_decay", "clip_grad_norm", "step_size", "gamma", "momentum", "optimizer")),
    *(f"tasks.{index}.{name}" for index in (0, 1, 999999) for name in ("name", "column", "kind", "bins", "threshold")),
    "compare.seeds", "compare.points", "compare.strategies", "embed", "run",
]
NAMES = [*DATASETS.names(), "mmoe", "mgda", "pcgrad", "static", "cnn", "mlp", "pcgard", "wine-rde"]
EDGES = [0, -1, 1, 2, 10, limits.MAX_EPOCHS, limits.MAX_EPOCHS + 1, limits.MAX_UNITS + 1, limits.MAX_BATCH_SIZE + 1,
         limits.MAX_ROWS + 1, limits.MAX_IMAGES + 1, limits.MAX_SEED, limits.MAX_SEED + 1, 2**53, 2**63, 2**64,
         10**20, 10**400]
PAYLOADS = ["<script>alert(1)</script>", "[x](https://e.example)", "![](https://e.example/p.png)", ":red[x]",
            "$x^2$", "**b**", "# h", "<img src=x onerror=alert(1)>", "\x00\x1b[31m", "'\"", "{}", "[]", "null", ""]

numbers = st.one_of(st.sampled_from(EDGES), st.integers(), st.floats(), st.sampled_from([1e-300, 5e-324, 1e308]))
nested = st.integers(0, 700).map(lambda depth: "[" * depth + "1" + "]" * depth)
values = st.one_of(
    numbers.map(str), nested, st.sampled_from(PAYLOADS + NAMES), st.text(max_size=40),
    st.lists(numbers, max_size=6).map(lambda items: "[" + ",".join(map(str, items)) + "]"),
    st.integers(900, 5_000).map(lambda length: "9" * length), st.integers(0, 3).map(lambda depth: '{"a":' * depth
                                                                                     + "1" + "}" * depth),
)
keys = st.one_of(st.sampled_from(KNOWN_KEYS), st.text(max_size=30), st.integers(100, 3_000).map(lambda n: "k" * n))
queries = st.dictionaries(keys, st.one_of(values, st.lists(values, max_size=3)), max_size=12)


@FUZZ
@given(query=queries)
@example(query={"data.params.x": "[" * 500 + "]" * 500})
@example(query={"train.lr": "11", "train.batch_size": "2000000", "train.seed": str(2**31), "data.test_size": "0.9999999999"})
def test_any_query_string_gives_a_config_and_warnings(query: dict[str, Any]) -> None:
    setup = from_query(query)
    comparison, notes = settings_from_query(query)
    assert isinstance(setup, SharedSetup) and isinstance(setup.config, ExperimentConfig)
    assert ExperimentConfig.from_dict(setup.config.to_dict()) == setup.config
    for warning in (*setup.warnings, *notes):
        assert isinstance(warning, str)
        for value in (v for item in query.values() for v in ([item] if isinstance(item, str) else item)):
            assert len(value) <= 200 or value[:201] not in warning  # a message quotes at most 200 characters
    within_limits(setup.config)
    assert comparison.seeds <= limits.MAX_SEEDS and comparison.points <= limits.MAX_POINTS
    tasks = len(setup.config.tasks or default_tasks(setup.config.data))
    assert comparison_epochs(comparison, setup.config.train.epochs, tasks) <= limits.MAX_COMPARISON_EPOCHS


def within_limits(config: ExperimentConfig) -> None:
    """Every limit holds for the config: training settings, the model's widths and the generated data's size."""
    assert config.train.epochs <= limits.MAX_EPOCHS and config.train.batch_size <= limits.MAX_BATCH_SIZE
    assert max(config.model.hidden) <= limits.MAX_UNITS and max(config.model.channels) <= limits.MAX_UNITS
    assert config.data.image_size <= limits.MAX_IMAGE_SIDE and config.train.seed <= limits.MAX_SEED
    source = DATASETS.get(config.data.source)
    params = validate(source.load, config.data.params, "data.params", source.name)  # valid, or it raises here
    source.check_size(params)  # a ConfigError here would mean a link could generate past a limit


def input_shape(config: ExperimentConfig) -> int | tuple[int, ...]:
    """The model's input shape, from the data's settings alone (nothing is generated)."""
    params = {**DATASETS.get(config.data.source).params().model_dump(), **config.data.params}
    if config.data.source == "cells-synthetic":
        return (1, params["size"], params["size"])
    return int(params.get("n_features", 11))


BIG = {"data.dataset": "mmoe-synthetic", "data.params.n_rows": "1e9", "data.params.n_features": "1e9",
       "model.hidden": "[1e9, 1e9, 1e9]", "model.architecture": "mmoe", "model.n_experts": "64",
       "model.tower_hidden": "[1e9]", "train.batch_size": "1e9", "train.epochs": "1e9"}


@BUILD
@given(query=st.dictionaries(st.sampled_from([key for key in KNOWN_KEYS if key.startswith(("model.", "data."))]),
                             st.one_of(st.sampled_from(EDGES).map(str), st.sampled_from(NAMES),
                                       st.lists(st.sampled_from(EDGES), max_size=4).map(str)), max_size=8))
@example(query=BIG)
@example(query={**BIG, "data.dataset": "cells-synthetic", "data.params.n_images": "1e9", "data.params.size": "1e9",
                "model.trunk": "cnn", "model.channels": "[1e9, 1e9]"})
def test_a_links_model_is_sized_before_any_weight_is_allocated(query: dict[str, str]) -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux: the process's high-water mark
    config = from_query(query).config
    heads = {f"t{index}": 1 for index in range(len(default_tasks(config.data)))}
    try:
        model = build_model(config.model, input_shape(config), heads)
    except ConfigError as error:  # the size check (or another setting that does not fit): before any weight
        assert "\n" not in str(error)
    else:
        assert sum(parameter.numel() for parameter in model.parameters()) <= limits.MAX_PARAMETERS
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 100, f"the worst link grew the process by {grown_mb:.0f} MB"


def test_the_worst_link_within_the_limits_is_refused_or_small() -> None:
    config = from_query(BIG).config
    assert config.model.hidden == (limits.MAX_UNITS,) * 3 and config.train.epochs == limits.MAX_EPOCHS
    params = config.data.params
    assert params["n_rows"] * params["n_features"] <= limits.MAX_CELLS
    try:
        build_model(config.model, input_shape(config), {"y1": 1, "y2": 1})
        raise AssertionError("a 64-expert model of 4,096-unit layers was built")
    except ConfigError as error:
        assert "MTL_MAX_PARAMETERS" in str(error)
    assert ModelConfig.model_validate({"hidden": [limits.MAX_UNITS]}).hidden == (limits.MAX_UNITS,)
