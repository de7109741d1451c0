"""Every registered strategy against the claims it declares, on awkward inputs (hypothesis).

The names come from the registry when this module is imported, so a method added later is covered
without touching this file. Every gradient method must give a finite direction of shape [P] and the
same output from two fresh instances; every loss method finite weights of shape [T]. Then each
declared claim is checked. The mathematical claims are checked on float64 Jacobians, so that the
check measures the method and not float32 rounding of the test's own dot products.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mtl_core import weighting
from mtl_core.weighting import GradientStrategy, LossWeighting
from tests.properties.jacobians import LossStep, jacobians, loss_steps

GRADIENT = weighting.available(kind="gradient")
LOSS = weighting.available(kind="loss")
GRADIENT_CLAIMS = {"finite", "non_conflicting", "task_order_equivariant", "sum_when_no_conflict",
                   "mean_when_no_conflict", "weights_on_simplex"}
LOSS_CLAIMS = {"finite", "weights_on_simplex", "scale_invariant_weights", "task_order_invariant"}
# derandomize: the same examples on every run, so a failure reproduces (and CI does not flicker)
SOME = settings(max_examples=20, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
FEW = settings(SOME, max_examples=15)


def variants(names: list[str]) -> list[tuple[str, dict[str, Any]]]:
    """Each name with its default hyper-parameters, then with each of its ``claim_settings``."""
    return [(name, dict(setting)) for name in names
            for setting in ({}, *weighting.STRATEGIES.get(name).claim_settings)]


def claimed(names: list[str], vocabulary: set[str]) -> list[Any]:
    """(name, hparams, claim) to check; "finite" is checked for every method anyway."""
    pairs = [pytest.param(name, hparams, claim, id=f"{name}{hparams or ''}-{claim}")
             for name, hparams in variants(names)
             for claim in sorted(weighting.create(name, **hparams).claims_held()) if claim in vocabulary - {"finite"}]
    return pairs or [pytest.param("none", {}, "none", marks=pytest.mark.skip("no method declares such a claim"))]


def or_skip(names: list[str]) -> list[str] | list[object]:
    return names or [pytest.param("none", marks=pytest.mark.skip("no method of this kind registered"))]


def gradient_strategy(name: str, n_tasks: int, hparams: dict[str, Any] | None = None) -> GradientStrategy:
    strategy = weighting.create(name, **(hparams or {}))
    assert isinstance(strategy, GradientStrategy)
    strategy.check_tasks(tuple(f"task_{index}" for index in range(n_tasks)))
    return strategy


def loss_strategy(name: str, step: LossStep) -> LossWeighting:
    strategy = weighting.create(name)
    assert isinstance(strategy, LossWeighting)
    strategy.check_tasks(step.context.task_names)
    return strategy


def loss_weights(name: str, step: LossStep) -> torch.Tensor:
    """The weights a fresh strategy uses at this step, [T], as float64."""
    losses = step.losses.clone().requires_grad_(True)
    _, weights = loss_strategy(name, step).combine(losses, step.context)
    return weights.detach().to(torch.float64)


def test_every_declared_claim_is_one_the_property_tests_check() -> None:
    for name, hparams in variants(weighting.available()):
        cls = weighting.STRATEGIES.get(name)
        vocabulary = GRADIENT_CLAIMS if cls.kind == "gradient" else LOSS_CLAIMS
        held = weighting.create(name, **hparams).claims_held()
        assert held <= vocabulary, f"{name}{hparams} declares {sorted(held - vocabulary)}, which nothing checks"


# ---- gradient-based: every method ------------------------------------------------------------

@pytest.mark.parametrize("name", or_skip(GRADIENT))
@SOME
@given(jacobian=jacobians(max_tasks=8, max_params=12))
def test_direction_is_finite_of_shape_p_and_the_same_from_two_fresh_instances(name: str, jacobian: torch.Tensor) -> None:
    n_tasks = len(jacobian)
    first, second = gradient_strategy(name, n_tasks), gradient_strategy(name, n_tasks)
    steps: list[tuple[torch.Tensor, list[int]]] = [(jacobian, list(range(n_tasks)))]
    if n_tasks > 1:  # the first task has no labels in this batch, then all are back
        steps += [(jacobian[1:], list(range(1, n_tasks))), (2.0 * jacobian, list(range(n_tasks)))]
    for matrix, rows in steps:
        direction = first(matrix, rows=rows)
        assert direction.shape == matrix.shape[1:] and bool(direction.isfinite().all())
        assert torch.equal(direction, second(matrix, rows=rows))


# ---- gradient-based: the declared claims ------------------------------------------------------

Make = Callable[[int], GradientStrategy]  # a fresh strategy for that many tasks


def check_non_conflicting(make: Make, jacobian: torch.Tensor, data: st.DataObject | None = None) -> None:
    """d · g_t ≥ 0 for every row, up to round-off of the products and of an exact 0 (scale-aware)."""
    direction = make(len(jacobian))(jacobian).to(torch.float64)
    norms = jacobian.norm(dim=1)
    slack = 1e-6 * norms * direction.norm() + 1e-12 * norms * norms.max()
    assert bool((jacobian @ direction >= -slack).all()), f"d · g_t = {(jacobian @ direction).tolist()}"


def check_task_order_equivariant(make: Make, jacobian: torch.Tensor, data: st.DataObject) -> None:
    order = data.draw(st.permutations(range(len(jacobian))), label="order")
    direction = make(len(jacobian))(jacobian)
    permuted = make(len(jacobian))(jacobian[list(order)])
    tolerance = 1e-6 * max(float(direction.abs().max()), float(permuted.abs().max())) + 1e-8 * scale(jacobian)
    assert float((direction - permuted).abs().max()) <= tolerance, f"{direction.tolist()} vs {permuted.tolist()}"


def check_sum_when_no_conflict(make: Make, jacobian: torch.Tensor, data: st.DataObject) -> None:
    jacobian = jacobian.abs()  # every pairwise dot product ≥ 0
    direction = make(len(jacobian))(jacobian)
    assert float((direction - jacobian.sum(dim=0)).abs().max()) <= 1e-6 * scale(jacobian)


def check_mean_when_no_conflict(make: Make, jacobian: torch.Tensor, data: st.DataObject) -> None:
    jacobian = jacobian.abs()
    direction = make(len(jacobian))(jacobian)
    assert float((direction - jacobian.mean(dim=0)).abs().max()) <= 1e-6 * scale(jacobian) / len(jacobian)


def check_weights_on_simplex(make: Make, jacobian: torch.Tensor, data: st.DataObject) -> None:
    strategy = make(len(jacobian))
    strategy(jacobian)
    weights = strategy.implied_weights()
    assert weights is not None and weights.shape == (len(jacobian),)
    assert float(weights.min()) >= -1e-9 and abs(float(weights.sum()) - 1.0) <= 1e-6, weights.tolist()


def scale(jacobian: torch.Tensor) -> float:
    """The largest entry the sum of the rows' magnitudes can reach."""
    return float(jacobian.abs().sum(dim=0).max())


GRADIENT_CHECKS = {
    "non_conflicting": check_non_conflicting, "task_order_equivariant": check_task_order_equivariant,
    "sum_when_no_conflict": check_sum_when_no_conflict, "mean_when_no_conflict": check_mean_when_no_conflict,
    "weights_on_simplex": check_weights_on_simplex,
}


@pytest.mark.parametrize(("name", "hparams", "claim"), claimed(GRADIENT, GRADIENT_CLAIMS))
@FEW
@given(jacobian=jacobians(max_tasks=8, max_params=12, dtype=torch.float64), data=st.data())
def test_a_gradient_method_keeps_each_claim_it_declares(name: str, hparams: dict[str, Any], claim: str,
                                                        jacobian: torch.Tensor, data: st.DataObject) -> None:
    GRADIENT_CHECKS[claim](lambda n_tasks: gradient_strategy(name, n_tasks, hparams), jacobian, data)


# ---- loss-based -------------------------------------------------------------------------------

any_step = st.booleans().flatmap(lambda absent: loss_steps(absent=absent))


@pytest.mark.parametrize("name", or_skip(LOSS))
@SOME
@given(step=any_step)
def test_loss_weights_are_finite_one_per_task_and_the_same_from_two_fresh_instances(name: str, step: LossStep) -> None:
    first, second = loss_strategy(name, step), loss_strategy(name, step)
    for _ in range(2):  # a second step after the strategy's own update
        outputs = []
        for strategy in (first, second):
            losses = step.losses.clone().requires_grad_(True)
            total, weights = strategy.combine(losses, step.context)
            assert weights.shape == losses.shape and bool(weights.isfinite().all()) and bool(total.isfinite())
            if total.requires_grad:
                total.backward()
            strategy.after_step()
            outputs.append(weights.detach())
        assert torch.equal(outputs[0], outputs[1])


def check_scale_invariant_weights(name: str, step: LossStep, data: st.DataObject) -> None:
    factor = data.draw(st.sampled_from([1e-3, 0.1, 7.0, 1e3]), label="factor")
    weights, scaled = loss_weights(name, step), loss_weights(name, step.scaled(factor))
    assert torch.allclose(weights, scaled, rtol=1e-4, atol=1e-6 * float(weights.abs().max())), f"× {factor}"


def check_loss_weights_on_simplex(name: str, step: LossStep, data: st.DataObject) -> None:
    weights = loss_weights(name, step)
    assert float(weights.min()) >= -1e-6 and abs(float(weights.sum()) - 1.0) <= 1e-5, weights.tolist()


def check_task_order_invariant(name: str, step: LossStep, data: st.DataObject) -> None:
    order = list(data.draw(st.permutations(range(len(step.losses))), label="order"))
    weights, permuted = loss_weights(name, step), loss_weights(name, step.permuted(order))
    assert torch.allclose(weights[order], permuted, rtol=1e-5, atol=1e-7 * float(weights.abs().max()))


LOSS_CHECKS = {
    "scale_invariant_weights": check_scale_invariant_weights, "weights_on_simplex": check_loss_weights_on_simplex,
    "task_order_invariant": check_task_order_invariant,
}


@pytest.mark.parametrize(("name", "hparams", "claim"), claimed(LOSS, LOSS_CLAIMS))
@FEW
@given(step=any_step, data=st.data())
def test_a_loss_method_keeps_each_claim_it_declares(name: str, hparams: dict[str, Any], claim: str, step: LossStep,
                                                    data: st.DataObject) -> None:
    LOSS_CHECKS[claim](name, step, data)
