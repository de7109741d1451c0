"""Gradient conflict diagnostics: the maths against direct computations, and a run that records them unchanged."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn
from torch.testing import assert_close

from mtl_core.experiment import run_to_results
from mtl_core.train.diagnostics import Diagnostics, angles_to, cosine_matrix, least_squares_weights
from mtl_core.weighting import create, task_gradients
from tests.fixtures.builders import small_config, without_timings


def tiny_jacobian() -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Two task losses of a shared Linear(3, 2) and two heads on a fixed batch: J [2, 8] and the gradients as
    torch.autograd.grad gives them, parameter by parameter."""
    generator = torch.Generator().manual_seed(0)
    shared = nn.Linear(3, 2)
    heads = [nn.Linear(2, 1), nn.Linear(2, 1)]
    with torch.no_grad():
        for parameter in [*shared.parameters(), *heads[0].parameters(), *heads[1].parameters()]:
            parameter.copy_(torch.randn(parameter.shape, generator=generator))
    x = torch.randn(5, 3, generator=generator)
    y = torch.randn(5, 2, generator=generator)
    hidden = torch.tanh(shared(x))
    losses = torch.stack([(head(hidden).squeeze(1) - y[:, t]).square().mean() for t, head in enumerate(heads)])
    parameters = list(shared.parameters())
    direct = [torch.cat([g.reshape(-1) for g in torch.autograd.grad(loss, parameters, retain_graph=True)])
              for loss in losses]
    return task_gradients(losses, parameters).detach(), direct


def test_cosines_and_norms_match_a_direct_computation_on_a_tiny_model() -> None:
    jacobian, (first, second) = tiny_jacobian()
    cosines, norms = cosine_matrix(jacobian)
    expected = float(first @ second / (first.norm() * second.norm()))
    assert cosines[0, 1].item() == pytest.approx(expected, rel=1e-6) and cosines[0, 0].item() == pytest.approx(1.0)
    assert norms.tolist() == pytest.approx([first.norm().item(), second.norm().item()], rel=1e-6)


def test_an_epoch_record_averages_cosines_counts_conflicts_and_keys_pairs_by_name() -> None:
    diagnostics = Diagnostics(("a", "b"), gradient_strategy=False)
    diagnostics.start_epoch(steps=2, lr=0.1)
    diagnostics.observe(torch.tensor([[1.0, 0.0], [1.0, 1.0]]), [0, 1])  # cos 1/√2
    diagnostics.observe(torch.tensor([[1.0, 0.0], [-1.0, 0.0]]), [0, 1])  # cos −1: a conflict
    record = diagnostics.record(4)
    assert record["epoch"] == 4 and record["steps"] == 2 and "angles" not in record
    assert record["cosine"]["a|b"] == pytest.approx((1 / math.sqrt(2) - 1) / 2)
    assert record["negative_fraction"] == {"a|b": 0.5}
    assert record["norms"] == pytest.approx({"a": 1.0, "b": (math.sqrt(2) + 1) / 2})


def test_a_task_absent_from_a_step_is_left_out_of_that_steps_means() -> None:
    diagnostics = Diagnostics(("a", "b", "c"), gradient_strategy=False)
    diagnostics.start_epoch(steps=2, lr=0.1)
    diagnostics.observe(torch.tensor([[1.0, 0.0], [0.0, 2.0]]), [0, 2])  # b unlabelled in this batch
    diagnostics.observe(torch.tensor([[1.0, 0.0], [3.0, 0.0], [0.0, 4.0]]), [0, 1, 2])
    record = diagnostics.record(1)
    assert record["norms"] == {"a": 1.0, "b": 3.0, "c": 3.0}
    assert record["cosine"] == {"a|b": 1.0, "a|c": 0.0, "b|c": 0.0}


def test_angles_are_measured_between_the_direction_and_each_task_gradient() -> None:
    jacobian = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    assert angles_to(torch.tensor([1.0, 1.0]), jacobian).tolist() == pytest.approx([45.0, 45.0])
    assert angles_to(torch.tensor([1.0, 0.0]), jacobian).tolist() == pytest.approx([0.0, 90.0])


def test_implied_weights_of_the_plain_sum_are_one_per_task() -> None:
    jacobian, _ = tiny_jacobian()
    assert least_squares_weights(jacobian.sum(dim=0), jacobian).tolist() == pytest.approx([1.0, 1.0], rel=1e-5)


@pytest.mark.parametrize("name", ["mgda", "upgrad"])
def test_implied_weights_reproduce_the_direction_and_the_strategys_own_weights(name: str) -> None:
    jacobian, _ = tiny_jacobian()
    strategy = create(name)
    direction = strategy(jacobian)
    weights = least_squares_weights(direction, jacobian)
    assert_close((weights @ jacobian.double()).float(), direction, atol=1e-5, rtol=1e-4)
    own = strategy.implied_weights()
    assert own is not None and weights.tolist() == pytest.approx(own.double().tolist(), rel=1e-3, abs=1e-6)


@pytest.mark.parametrize("strategy", ["equal", "graddrop"])
def test_a_run_with_diagnostics_trains_to_the_same_numbers_and_records_every_epoch(strategy: str) -> None:
    base = small_config(model={"architecture": "mmoe", "hidden": [8], "n_experts": 2}, strategy={"name": strategy},
                        train={"epochs": 2, "batch_size": 0, "threads": 1})  # full batch: one step an epoch
    off = run_to_results(base)
    on = run_to_results(base.with_overrides(["train.diagnostics=true"]))
    assert without_timings(on.history)[0].keys() == without_timings(off.history)[0].keys()
    assert [entry["train_loss"] for entry in on.history] == [entry["train_loss"] for entry in off.history]
    assert on.metrics == off.metrics and on.predictions == off.predictions
    assert "diagnostics" not in off.to_dict() and [record["epoch"] for record in on.diagnostics] == [1, 2]
    record = on.diagnostics[-1]
    assert set(record["cosine"]) == {"progression|high_progression"} and set(record["norms"]) == set(record["affinity"])
    assert ("angles" in record) == (strategy != "equal") and sum(record["model"]["gates"][0]["progression"].values()) \
        == pytest.approx(1.0)
    if strategy == "graddrop":  # no weights of its own: the least-squares ones fill the weights history
        assert not off.history[-1]["weights"] and on.history[-1]["weights"] == pytest.approx(record["implied_weights"])
