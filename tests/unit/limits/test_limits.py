"""Every limit on a link, a config file and the command line: clamped with a warning naming the limit and its
variable in a link, refused with one line (a ConfigError; exit 2 on the command line) everywhere else."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mtl_core import limits
from mtl_core.cli import main
from mtl_core.compare.settings import ComparisonSettings, check_work, comparison_epochs, settings_from_query
from mtl_core.config import ExperimentConfig, ModelConfig
from mtl_core.data import create as create_data
from mtl_core.errors import ConfigError
from mtl_core.models import build_model
from mtl_core.share import from_query

MMOE = {"data.dataset": "mmoe-synthetic"}
CELLS = {"data.dataset": "cells-synthetic"}

# (limit, link, what the repaired config holds)
LINKS: list[tuple[str, dict[str, str], Callable[[ExperimentConfig], Any], Any]] = [
    ("MAX_EPOCHS", {"train.epochs": "5000"}, lambda c: c.train.epochs, limits.MAX_EPOCHS),
    ("MAX_EPOCHS", {"train.select": "val_loss", "train.patience": "999999"}, lambda c: c.train.patience,
     limits.MAX_EPOCHS),
    ("MAX_BATCH_SIZE", {"train.batch_size": "2000000"}, lambda c: c.train.batch_size, limits.MAX_BATCH_SIZE),
    ("MAX_UNITS", {"model.hidden": "[20000,20000]"}, lambda c: c.model.hidden, (limits.MAX_UNITS,) * 2),
    ("MAX_UNITS", {"model.trunk": "cnn", "model.channels": "[100000]"}, lambda c: c.model.channels,
     (limits.MAX_UNITS,)),
    ("MAX_UNITS", {"model.architecture": "mmoe", "model.tower_hidden": "[99999]"},
     lambda c: c.model.hparams.get("tower_hidden"), None),
    ("MAX_IMAGE_SIDE", {"data.image_size": "100000"}, lambda c: c.data.image_size, limits.MAX_IMAGE_SIDE),
    ("MAX_ROWS", {**MMOE, "data.params.n_rows": "1e9", "data.params.n_features": "2"},
     lambda c: c.data.params["n_rows"], limits.MAX_ROWS),
    ("MAX_COLUMNS", {**MMOE, "data.params.n_features": "100000", "data.params.n_rows": "10"},
     lambda c: c.data.params["n_features"], limits.MAX_COLUMNS),
    ("MAX_CELLS", {**MMOE, "data.params.n_rows": "100000", "data.params.n_features": "1000"},
     lambda c: c.data.params["n_rows"] * c.data.params["n_features"] <= limits.MAX_CELLS, True),
    ("MAX_IMAGES", {**CELLS, "data.params.n_images": "10000000", "data.params.size": "16"},
     lambda c: c.data.params["n_images"] <= limits.MAX_IMAGES, True),
    ("MAX_PIXELS", {**CELLS, "data.params.n_images": "100000", "data.params.size": "128"},
     lambda c: c.data.params["n_images"] * 128 * 128 <= limits.MAX_PIXELS, True),
]


@pytest.mark.parametrize(("limit", "query", "read", "expected"), LINKS,
                         ids=[f"{name}-{'&'.join(query)}" for name, query, _, _ in LINKS])
def test_a_link_past_a_limit_is_clamped_with_a_warning_naming_the_limit(
        limit: str, query: dict[str, str], read: Callable[[ExperimentConfig], Any], expected: Any) -> None:
    setup = from_query(query)
    variable = limits.LIMITS[limit].variable
    assert read(setup.config) == expected
    assert any(variable in warning and limits.describe(limit) in warning for warning in setup.warnings), setup.warnings


# (limit, --set overrides that a config file or the command line refuses)
REFUSED: list[tuple[str, list[str]]] = [
    ("MAX_EPOCHS", ["train.epochs=5000"]),
    ("MAX_EPOCHS", ['train.select="val_loss"', "train.patience=5000"]),
    ("MAX_BATCH_SIZE", ["train.batch_size=2000000"]),
    ("MAX_UNITS", ["model.hidden=[20000, 20000]"]),
    ("MAX_UNITS", ["model.channels=[100000]"]),
    ("MAX_IMAGE_SIDE", ["data.image_size=100000"]),
]


@pytest.mark.parametrize(("limit", "overrides"), REFUSED, ids=[" ".join(o) for _, o in REFUSED])
def test_a_config_past_a_limit_is_refused_in_one_line_naming_the_variable(limit: str, overrides: list[str]) -> None:
    with pytest.raises(ConfigError) as raised:
        ExperimentConfig().with_overrides(overrides)
    assert limits.LIMITS[limit].variable in str(raised.value) and "\n" not in str(raised.value)


def test_the_seed_is_bounded_by_what_every_generator_accepts() -> None:
    assert from_query({"train.seed": str(2**31)}).config.train.seed == limits.MAX_SEED
    assert from_query({"data.split_seed": "9" * 20}).config.data.split_seed == limits.MAX_SEED
    with pytest.raises(ConfigError, match="train.seed"):
        ExperimentConfig().with_overrides([f"train.seed={2**31}"])


GENERATED: list[tuple[str, str, dict[str, Any]]] = [
    ("MAX_ROWS", "mmoe-synthetic", {"n_rows": 10**9, "n_features": 2}),
    ("MAX_COLUMNS", "routed-synthetic", {"n_features": 10**6, "n_rows": 20}),
    ("MAX_CELLS", "mmoe-synthetic", {"n_rows": 100_000, "n_features": 1_000}),
    ("MAX_CELLS", "routed-synthetic", {"n_rows": 1_000_000, "n_features": 1_000}),
    ("MAX_IMAGES", "cells-synthetic", {"n_images": 10**7, "size": 16}),
    ("MAX_IMAGE_SIDE", "cells-synthetic", {"n_images": 20, "size": 10**5}),
    ("MAX_PIXELS", "cells-synthetic", {"n_images": 40_000, "size": 128}),
]


@pytest.mark.parametrize(("limit", "name", "params"), GENERATED, ids=[f"{limit}-{name}" for limit, name, _ in GENERATED])
def test_generated_data_past_a_limit_is_refused_before_anything_is_generated(
        limit: str, name: str, params: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("numpy.random.default_rng", _no_generation)
    with pytest.raises(ConfigError) as raised:
        create_data(name, **params)
    assert limits.LIMITS[limit].variable in str(raised.value) and "\n" not in str(raised.value)


def _no_generation(*args: Any, **kwargs: Any) -> None:
    raise AssertionError("data were generated before the size check")


def test_the_parameter_count_is_refused_before_any_weight_is_allocated() -> None:
    settings = ModelConfig(architecture="mmoe", hidden=(4096, 4096), n_experts=64)
    with pytest.raises(ConfigError) as raised:
        build_model(settings, 2_000, {"a": 1, "b": 1})  # 1.6e9 parameters: 6.4 GB if it were allocated
    text = str(raised.value)
    assert "MTL_MAX_PARAMETERS" in text and f"{limits.MAX_PARAMETERS:,}" in text and "parameters" in text


def test_a_model_within_the_limit_is_built() -> None:
    model = build_model(ModelConfig(hidden=(64,)), 10, {"a": 1})
    assert sum(p.numel() for p in model.parameters()) == 10 * 64 + 64 + 64 + 1


def test_the_command_line_refuses_a_limit_with_exit_2_and_one_line(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "big.toml"
    config.write_text('[data]\ndataset = "mmoe-synthetic"\nparams = { n_rows = 100000, n_features = 1000 }\n',
                      encoding="utf-8")
    for extra in ([], ["--set", "data.params={}", "model.hidden=[4096, 4096]", "data.dataset=diabetes"],
                  ["--set", "train.epochs=5000"]):
        code = main(["run", str(config), "--no-store", "--quiet", "--out", str(tmp_path / "r.json"), *extra])
        err = capsys.readouterr().err
        assert code == 2 and len(err.strip().splitlines()) == 1 and "MTL_MAX_" in err, err


def test_comparison_seeds_and_points_are_clamped_in_a_link() -> None:
    settings, warnings = settings_from_query({"compare.seeds": "500", "compare.points": "500"})
    assert (settings.seeds, settings.points) <= (limits.MAX_SEEDS, limits.MAX_POINTS)
    assert any("MTL_MAX_SEEDS" in text for text in warnings) and any("MTL_MAX_POINTS" in text for text in warnings)


def test_a_comparisons_total_epochs_are_clamped_in_a_link_and_refused_otherwise() -> None:
    query = {"train.epochs": "1000", "compare.seeds": "20", "compare.points": "15",
             "compare.strategies": "equal,pcgrad,mgda,cagrad"}
    settings, warnings = settings_from_query(query)
    assert comparison_epochs(settings, 1000, 2) <= limits.MAX_COMPARISON_EPOCHS
    assert any("MTL_MAX_COMPARISON_EPOCHS" in text for text in warnings)
    with pytest.raises(ConfigError, match="MTL_MAX_COMPARISON_EPOCHS"):
        check_work(ComparisonSettings(seeds=20, points=15), epochs=1000, tasks=2)
    check_work(ComparisonSettings(), epochs=100, tasks=2)  # the defaults fit


def test_a_warning_never_quotes_more_than_200_characters_of_a_value() -> None:
    long = "x" * 999
    query = {"data.dataset": long, "strategy.name": long, "model.architecture": long, "train.optimizer": long,
             "tasks.0.name": long, "tasks.0.column": "y", "strategy.alpha": long, "model." + "k" * 90: long}
    for warning in from_query(query).warnings:
        assert "x" * 201 not in warning and "k" * 201 not in warning


def test_a_batch_too_big_for_memory_is_refused_before_its_forward_pass() -> None:
    torch = pytest.importorskip("torch")
    from mtl_core.models.registry import MAX_ACTIVATIONS, activations_per_row

    settings = ModelConfig(hidden=(4096,))
    model = build_model(settings, 20, {"a": 1, "b": 1})
    per_row = activations_per_row(settings, 20, {"a": 1, "b": 1})
    assert per_row == 4096 + 4096 + 2  # Linear, ReLU, two heads
    rows = MAX_ACTIVATIONS // per_row + 1
    with pytest.raises(ConfigError, match="train.batch_size") as raised:
        model(torch.empty(rows, 20, device="meta"))  # the check runs before the layers: no memory is touched
    assert f"at most {MAX_ACTIVATIONS // per_row:,}" in str(raised.value)
    assert model(torch.zeros(3, 20))["a"].shape == (3, 1)


def test_evaluation_without_gradients_counts_only_the_widest_layers() -> None:
    torch = pytest.importorskip("torch")
    from mtl_core.models.registry import MAX_ACTIVATIONS, activations_per_row

    settings = ModelConfig(hidden=(1024,) * 4)
    per_row = activations_per_row(settings, 20, {"a": 1})  # 8 outputs of 1,024 kept for the backward pass
    rows = MAX_ACTIVATIONS // per_row + 1
    model = build_model(settings, 20, {"a": 1})
    with pytest.raises(ConfigError):
        model(torch.empty(rows, 20, device="meta"))
    with torch.no_grad():  # two outputs of 1,024 alive at once: the same rows pass the check
        with pytest.raises(RuntimeError, match="meta"):  # (and reach the layers, which meta input cannot enter)
            model(torch.empty(rows, 20, device="meta"))


def test_evaluation_cuts_a_split_into_pieces_a_wide_model_may_take(monkeypatch: pytest.MonkeyPatch) -> None:
    torch = pytest.importorskip("torch")
    import numpy as np

    from mtl_core.data import Split
    from mtl_core.models import registry
    from mtl_core.train.evaluation import CHUNK_ROWS, split_outputs

    settings = ModelConfig(hidden=(64, 64))
    model = build_model(settings, 5, {"a": 1})
    per_row = min(registry.activations_per_row(settings, 5, {"a": 1}), 2 * 64)  # no gradients: two widest layers
    monkeypatch.setattr(registry, "MAX_ACTIVATIONS", 40 * per_row)  # 40 rows at once, the split has 100
    assert registry.rows_at_once(model, CHUNK_ROWS) == 40
    assert registry.rows_at_once(torch.nn.Linear(5, 1), CHUNK_ROWS) == CHUNK_ROWS  # not built here: no budget known
    features = torch.randn(100, 5)
    with pytest.raises(ConfigError), torch.no_grad():
        model(features)  # the whole split at once is past the budget
    split = Split(features=features, targets={"a": torch.zeros(100)}, masks={"a": torch.ones(100, dtype=torch.bool)},
                  rows=np.arange(100))
    outputs = split_outputs(model, split, torch.device("cpu"))
    with torch.no_grad():
        model.eval()
        expected = torch.cat([model(features[start:start + 40])["a"] for start in range(0, 100, 40)])
    torch.testing.assert_close(outputs["a"], expected)


def test_a_full_batch_past_the_activation_budget_trains_in_the_largest_batches_that_fit(
        monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("torch")
    from mtl_core.experiment import prepare, run_to_results
    from mtl_core.models import registry
    from tests.fixtures.builders import small_config

    from mtl_core.train import Trainer

    config, dataset = prepare(small_config())
    heads = Trainer(config, dataset).model.head_widths
    per_row = registry.activations_per_row(config.model, dataset.train.features.shape[1], heads)
    monkeypatch.setattr(registry, "MAX_ACTIVATIONS", 100 * per_row)  # 100 rows at once; the split has more
    assert len(dataset.train) > 100
    full = run_to_results(config)
    explicit = run_to_results(ExperimentConfig.from_dict({**config.to_dict(), "train": {**config.train.model_dump(),
                                                                                        "batch_size": 100}}))
    assert full.status == "completed"
    assert [row["train_loss"] for row in full.history] == [row["train_loss"] for row in explicit.history]


def test_a_batch_past_the_activation_budget_is_refused_before_training_in_either_gradient_space(
        monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("torch")
    from mtl_core.experiment import prepare
    from mtl_core.models import registry
    from mtl_core.train import Trainer
    from tests.fixtures.builders import small_config

    for space in ("parameters", "representation"):
        config, dataset = prepare(small_config(strategy={"name": "mgda", "space": space}, train={"batch_size": 200}))
        monkeypatch.undo()  # the default budget while the model is measured
        heads = Trainer(config, dataset).model.head_widths
        monkeypatch.setattr(registry, "MAX_ACTIVATIONS",
                            100 * registry.activations_per_row(config.model, dataset.train.features.shape[1], heads))
        with pytest.raises(ConfigError, match=r"train.batch_size: 200 rows .* at most 10\d"):
            Trainer(config, dataset)
