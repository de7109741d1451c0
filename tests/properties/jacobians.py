"""Hypothesis strategies for the weighting claims: awkward Jacobians, loss vectors and step contexts.

Jacobians carry the cases that break solvers: zero rows, exact duplicates, collinear and opposite
rows (a positive or negative multiple of an earlier row), and rows scaled from 1e-8 to 1e8.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import torch
from hypothesis import strategies as st

from mtl_core.weighting import StepContext

SCALES = (1e-8, 1e-4, 1e-2, 1.0, 1e2, 1e4, 1e8)
ROW_KINDS = ("plain", "plain", "zero", "duplicate", "collinear", "opposite", "scaled")


@st.composite
def jacobians(draw: st.DrawFn, min_tasks: int = 1, max_tasks: int = 8, max_params: int = 12,
              dtype: torch.dtype = torch.float32, non_negative: bool = False) -> torch.Tensor:
    """[T, P] with 1 ≤ T ≤ ``max_tasks``; ``non_negative`` makes every pairwise dot product ≥ 0 (no conflict)."""
    tasks = draw(st.integers(min_tasks, max_tasks))
    params = draw(st.integers(1, max_params))
    seed = draw(st.integers(0, 2**31 - 1))
    rows = torch.randn(tasks, params, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    for index in range(tasks):
        kind = draw(st.sampled_from(ROW_KINDS))
        earlier = draw(st.integers(0, index - 1)) if index > 0 else None
        if kind == "zero":
            rows[index] = 0.0
        elif kind == "scaled":
            rows[index] *= draw(st.sampled_from(SCALES))
        elif kind == "plain" or earlier is None:
            pass
        elif kind == "duplicate":
            rows[index] = rows[earlier]
        elif kind in ("collinear", "opposite"):
            sign = 1.0 if kind == "collinear" else -1.0
            rows[index] = sign * draw(st.sampled_from(SCALES)) * rows[earlier]
    if non_negative:
        rows = rows.abs()
    return rows.to(dtype)


@dataclass(frozen=True)
class LossStep:
    """One loss-based step: the losses [T] and the context a strategy reads, plus its grad-norm values."""

    losses: torch.Tensor  # [T], float32, an absent task's entry is exactly 0
    context: StepContext
    grad_norms: torch.Tensor  # [T], what ``shared_grad_norms()`` and ``last_layer_grad_norms`` give

    def scaled(self, factor: float) -> LossStep:
        """The same step with every loss (hence every loss history entry and gradient norm) × ``factor``."""
        context = replace(
            self.context,
            epoch_losses=tuple(tuple(value * factor for value in epoch) for epoch in self.context.epoch_losses),
            initial_losses=tuple(value * factor for value in self.context.initial_losses or ()),
            last_layer_grad_norms=self.grad_norms * factor,
            shared_grad_norms=differentiable(self.grad_norms * factor),
        )
        return LossStep(self.losses * factor, context, self.grad_norms * factor)

    def permuted(self, order: list[int]) -> LossStep:
        """The same step with the tasks listed in ``order`` (every per-task field follows)."""
        pick = torch.tensor(order)
        context = replace(
            self.context,
            task_names=tuple(self.context.task_names[index] for index in order),
            epoch_losses=tuple(tuple(epoch[index] for index in order) for epoch in self.context.epoch_losses),
            initial_losses=tuple((self.context.initial_losses or ())[index] for index in order),
            last_layer_grad_norms=self.grad_norms[pick],
            shared_grad_norms=differentiable(self.grad_norms[pick]),
            present=tuple((self.context.present or ())[index] for index in order),
        )
        return LossStep(self.losses[pick], context, self.grad_norms[pick])


def differentiable(values: torch.Tensor) -> Callable[[], torch.Tensor]:
    """A ``shared_grad_norms`` stand-in: fresh differentiable [T] norms on every call."""
    def norms() -> torch.Tensor:
        return values.detach().clone().requires_grad_(True) * 1.0
    return norms


positive = st.floats(1e-4, 1e4, allow_nan=False, allow_infinity=False)


@st.composite
def loss_steps(draw: st.DrawFn, max_tasks: int = 8, absent: bool = False) -> LossStep:
    """Positive losses and a matching StepContext; with ``absent``, one task has no labels (loss 0, present False)."""
    tasks = draw(st.integers(2 if absent else 1, max_tasks))
    epoch = draw(st.integers(1, 4))
    values = draw(st.lists(positive, min_size=tasks, max_size=tasks))
    norms = draw(st.lists(positive, min_size=tasks, max_size=tasks))
    history = tuple(tuple(draw(st.lists(positive, min_size=tasks, max_size=tasks))) for _ in range(epoch - 1))
    present = [True] * tasks
    if absent:
        missing = draw(st.integers(0, tasks - 1))
        present[missing], values[missing], norms[missing] = False, 0.0, 0.0
    grad_norms = torch.tensor(norms, dtype=torch.float32)
    context = StepContext(
        epoch=epoch, step=draw(st.integers(0, 50)), task_names=tuple(f"task_{index}" for index in range(tasks)),
        epoch_losses=history, initial_losses=tuple(draw(st.lists(positive, min_size=tasks, max_size=tasks))),
        last_layer_grad_norms=grad_norms, present=tuple(present), shared_grad_norms=differentiable(grad_norms),
    )
    return LossStep(torch.tensor(values, dtype=torch.float32), context, grad_norms)


def random_matrices(count: int, seed: int = 0, max_tasks: int = 8, max_params: int = 50,
                    full_rank: bool = False) -> list[torch.Tensor]:
    """``count`` float64 Jacobians for reference comparisons: 2 ≤ T ≤ ``max_tasks``, P ≤ ``max_params``.

    Every third has a near-collinear pair of rows (a row plus 1e-3 noise), every fifth a
    near-opposite one. With ``full_rank`` P ≥ T, so the rows are linearly independent.
    """
    generator = torch.Generator().manual_seed(seed)
    matrices = []
    for index in range(count):
        tasks = int(torch.randint(2, max_tasks + 1, (), generator=generator))
        params = int(torch.randint(tasks if full_rank else 2, max_params + 1, (), generator=generator))
        rows = torch.randn(tasks, params, generator=generator, dtype=torch.float64)
        noise = 1e-3 * torch.randn(params, generator=generator, dtype=torch.float64)
        if index % 3 == 0:
            rows[1] = rows[0] + noise
        elif index % 5 == 0:
            rows[-1] = -0.5 * rows[0] + noise
        matrices.append(rows)
    return matrices


# ---- families around Pareto stationarity (0 in the convex hull of the rows) ------------------------

FAMILIES = ("strictly_weak", "weak", "non_weak", "strong")
STATIONARY_SCALES = (0.0, 1e-10, 1e-5, 1.0, 1e5, 1e10, 1e15)


def stationary_family(family: str, tasks: int, params: int, rank: int, seed: int,
                      scale: float = 1.0) -> torch.Tensor:
    """A float64 Jacobian [T, P] of rank at most ``rank`` (1 ≤ rank ≤ T − 1 for the stationary families).

    ``strictly_weak``: Σ a_t g_t = 0 with every a_t > 0 (0 in the relative interior of the hull).
    ``weak``: that holds for a subset of rows lying in a hyperplane n·g = 0, the others have n·g > 0
    (0 on the hull's boundary). ``non_weak``: every row has n·g > 0 (0 outside the hull).
    ``strong``: integer rows whose positive integer combination is exactly 0 in floating point.
    Rows are then multiplied by factors in 1e-3..1e3 and the whole matrix by ``scale``.
    """
    generator = torch.Generator().manual_seed(seed)
    rank = max(1, min(rank, params - 1, tasks - 1 if family != "non_weak" else tasks))  # room for n
    basis = torch.linalg.qr(torch.randn(params, rank + 1, generator=generator, dtype=torch.float64))[0].T
    normal, span = basis[0], basis[1:]  # orthonormal: n and a rank-dimensional subspace orthogonal to it
    if family == "strong":
        rows = _integer_cancelling(tasks, rank, generator).to(torch.float64) @ span[:rank] * 4.0
    elif family == "strictly_weak":
        rows = _cancelling(tasks, rank, generator) @ span
    elif family == "weak":
        face = int(torch.randint(1, tasks, (), generator=generator))  # rows 0..face-1 lie in n·g = 0
        rows = torch.randn(tasks, rank, generator=generator, dtype=torch.float64) @ span
        rows[:face] = _cancelling(face, min(rank, max(face - 1, 1)), generator) @ span[:min(rank, max(face - 1, 1))]
        if face == 1:
            rows[0] = 0.0  # a single row summing to 0 with a positive weight is the zero row
        rows[face:] += (torch.rand(tasks - face, 1, generator=generator, dtype=torch.float64) + 0.1) * normal
    elif family == "non_weak":
        rows = torch.randn(tasks, rank, generator=generator, dtype=torch.float64) @ span[:rank]
        rows += (torch.rand(tasks, 1, generator=generator, dtype=torch.float64) + 0.1) * normal
    else:
        raise ValueError(f"unknown family {family!r}; expected one of {FAMILIES}")
    factors = 10.0 ** (6.0 * torch.rand(tasks, 1, generator=generator, dtype=torch.float64) - 3.0)
    return rows * factors * scale


def _cancelling(tasks: int, rank: int, generator: torch.Generator) -> torch.Tensor:
    """[T, rank] coefficients whose combination with positive weights a (each a_t in 0.1..1.1) is 0."""
    coefficients = torch.randn(tasks, rank, generator=generator, dtype=torch.float64)
    weights = torch.rand(tasks, generator=generator, dtype=torch.float64) + 0.1
    return coefficients - torch.outer(weights, weights @ coefficients) / (weights @ weights)


def _integer_cancelling(tasks: int, rank: int, generator: torch.Generator) -> torch.Tensor:
    """[T, rank] small integers: the last row is −Σ a_t (row t), a_t in 1..3, so the sum is exactly 0."""
    rows = torch.randint(-4, 5, (tasks, rank), generator=generator)
    weights = torch.randint(1, 4, (tasks - 1,), generator=generator)
    rows[-1] = -(weights @ rows[:-1])
    return rows


@st.composite
def stationary_jacobians(draw: st.DrawFn, families: tuple[str, ...] = FAMILIES, max_tasks: int = 20,
                         max_params: int = 100) -> torch.Tensor:
    """A ``stationary_family`` matrix: 2 ≤ T ≤ ``max_tasks``, 2 ≤ P ≤ ``max_params``, 1 ≤ rank ≤ T − 1."""
    family = draw(st.sampled_from(families))
    tasks = draw(st.integers(2, max_tasks))
    params = draw(st.integers(2, max_params))
    rank = draw(st.integers(1, max(tasks - 1, 1)))
    scale = draw(st.sampled_from(STATIONARY_SCALES))
    return stationary_family(family, tasks, params, rank, draw(st.integers(0, 2**31 - 1)), scale)
