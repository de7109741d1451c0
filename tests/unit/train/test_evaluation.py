"""Evaluation: metrics and predictions in the target's own units, over labelled rows."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn import metrics as skm

from mtl_core.config import ExperimentConfig
from mtl_core.data import MTLDataset, load_table
from mtl_core.experiment import prepare
from mtl_core.train import Trainer
from mtl_core.train.evaluation import evaluate, predictions
from tests.fixtures.builders import small_config


@pytest.fixture(scope="module")
def trained() -> tuple[ExperimentConfig, MTLDataset, torch.nn.Module]:
    config, dataset = prepare(small_config(
        tasks=[{"name": "progression", "column": "progression", "standardize": True},
               {"name": "high", "column": "progression", "kind": "binary", "threshold": 140.5}],
        train={"epochs": 3}))
    trainer = Trainer(config, dataset)
    list(trainer.run())
    return config, dataset, trainer.model


def test_predictions_carry_the_true_values_in_original_units(trained: tuple[ExperimentConfig, MTLDataset,
                                                                              torch.nn.Module]) -> None:
    config, dataset, model = trained
    table, _ = load_table(config.data)
    result = predictions(model, dataset, dataset.test, torch.device("cpu"))
    progression = result["progression"]
    assert progression["row"] == dataset.test.rows.tolist()
    np.testing.assert_allclose(progression["true"], table["progression"].to_numpy()[dataset.test.rows], rtol=1e-5)
    assert len(progression["pred"]) == len(dataset.test)
    high = result["high"]
    assert set(high["true"]) <= {0, 1} and set(high["pred"]) <= {0, 1} and high["classes"] == list(dataset.info["high"].classes)
    assert all(0.0 <= p <= 1.0 for p in high["proba"])


def test_metrics_are_computed_from_the_predictions(trained: tuple[ExperimentConfig, MTLDataset,
                                                                  torch.nn.Module]) -> None:
    _, dataset, model = trained
    device = torch.device("cpu")
    losses, metrics = evaluate(model, dataset, dataset.test, device)
    result = predictions(model, dataset, dataset.test, device)
    true, pred = result["progression"]["true"], result["progression"]["pred"]
    assert metrics["progression"]["mse"] == pytest.approx(skm.mean_squared_error(true, pred), rel=1e-6)
    assert metrics["high"]["accuracy"] == pytest.approx(skm.accuracy_score(result["high"]["true"],
                                                                           result["high"]["pred"]))
    assert set(losses) == {"progression", "high"}


def test_an_empty_split_has_no_losses_and_no_metrics(trained: tuple[ExperimentConfig, MTLDataset,
                                                                    torch.nn.Module]) -> None:
    _, dataset, model = trained
    empty = dataset.test.__class__(dataset.test.features[:0], {k: v[:0] for k, v in dataset.test.targets.items()},
                                   {k: v[:0] for k, v in dataset.test.masks.items()}, dataset.test.rows[:0])
    assert evaluate(model, dataset, empty, torch.device("cpu")) == ({}, {})


def test_evaluation_leaves_the_model_in_training_mode(trained: tuple[ExperimentConfig, MTLDataset,
                                                                     torch.nn.Module]) -> None:
    _, dataset, model = trained
    model.train()
    evaluate(model, dataset, dataset.val, torch.device("cpu"))
    assert model.training
