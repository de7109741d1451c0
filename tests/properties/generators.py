"""Hypothesis generators shared by the property tests: Jacobians and loss vectors with awkward cases."""

from __future__ import annotations

import torch
from hypothesis import strategies as st

SCALES = (1e-8, 1e-4, 1.0, 1e4, 1e8)


@st.composite
def jacobians(draw: st.DrawFn, max_tasks: int = 6, max_params: int = 20) -> torch.Tensor:
    """[T, P] float32 with rows that may be zero, duplicated, or scaled from 1e-8 to 1e8."""
    tasks = draw(st.integers(1, max_tasks))
    params = draw(st.integers(1, max_params))
    seed = draw(st.integers(0, 2**31 - 1))
    rows = torch.randn(tasks, params, generator=torch.Generator().manual_seed(seed))
    for index in range(tasks):
        case = draw(st.sampled_from(["plain", "zero", "copy", "scaled"]))
        if case == "zero":
            rows[index] = 0.0
        elif case == "copy" and index > 0:
            rows[index] = rows[draw(st.integers(0, index - 1))]
        elif case == "scaled":
            rows[index] *= draw(st.sampled_from(SCALES))
    return rows


@st.composite
def loss_vectors(draw: st.DrawFn, max_tasks: int = 6) -> torch.Tensor:
    """[T] non-negative float32 losses, zero or from 1e-8 to 1e8."""
    values = draw(st.lists(st.one_of(st.just(0.0), st.sampled_from(SCALES),
                                     st.floats(1e-8, 1e8, allow_nan=False, allow_infinity=False)),
                           min_size=1, max_size=max_tasks))
    return torch.tensor(values, dtype=torch.float32)
