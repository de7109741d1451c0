"""CoV-weighting (Groenendijk et al., 2021): weights from the coefficient of variation of loss ratios."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.testing import assert_close

from mtl_core.errors import ConfigError
from mtl_core.weighting import LossWeighting, StepContext, create

TASKS = ("a", "b")


def cov(**hparams: object) -> LossWeighting:
    strategy = create("cov", **hparams)
    assert isinstance(strategy, LossWeighting)
    return strategy


def weights(strategy: LossWeighting, losses: list[float], present: tuple[bool, ...] | None = None) -> torch.Tensor:
    return strategy.weights(torch.tensor(losses, dtype=torch.float64), StepContext(1, 0, TASKS, present=present))


def test_a_scripted_sequence_by_hand() -> None:
    strategy = cov()
    # steps 0 and 1 weigh equally
    assert_close(weights(strategy, [1.0, 2.0]), torch.tensor([0.5, 0.5], dtype=torch.float64))
    # step 0 seen: ℓ = [1, 1], μ_ℓ = [1, 1], S = 0, μ_L = [1, 2]
    assert_close(weights(strategy, [0.5, 2.0]), torch.tensor([0.5, 0.5], dtype=torch.float64))
    # step 1 seen: ℓ = [0.5/1, 2/2] = [0.5, 1]; μ_ℓ = ½·1 + ½·ℓ = [0.75, 1];
    # S_a = (0.5 - 1)(0.5 - 0.75) = 0.125, S_b = 0; μ_L = [0.75, 2]
    # step 2: σ = sqrt(S/2 + 1e-8) = [0.25000002, 1e-4]; c = σ/μ_ℓ = [0.333333, 1e-4];
    # α = c / Σc = [0.999700, 0.000300]
    assert_close(weights(strategy, [0.25, 2.0]), torch.tensor([0.999700, 0.000300], dtype=torch.float64),
                 atol=1e-6, rtol=0)


def official(sequence: np.ndarray, decay: float | None) -> np.ndarray:
    """A line-by-line transcription of the official CoVWeightingLoss (rickgroen/cov-weighting)."""
    n = sequence.shape[1]
    mean_L, mean_l, S_l, std_l = np.zeros(n), np.zeros(n), np.zeros(n), np.ones(n)  # std_l is read from step 2 on
    alphas = []
    for it, L in enumerate(sequence):
        L0 = L.copy() if it == 0 else mean_L
        l = L / L0
        if it <= 1:
            alphas.append(np.ones(n) / n)
        else:
            ls = std_l / mean_l
            alphas.append(ls / ls.sum())
        mean_param = 0.0 if it == 0 else (decay if decay is not None else 1.0 - 1.0 / (it + 1))
        new_mean_l = mean_param * mean_l + (1 - mean_param) * l
        S_l = S_l + (l - mean_l) * (l - new_mean_l)
        mean_l = new_mean_l
        std_l = np.sqrt(S_l / (it + 1) + 1e-8)
        mean_L = mean_param * mean_L + (1 - mean_param) * L
    return np.array(alphas)


@pytest.mark.parametrize("decay", [None, 0.9])
def test_it_matches_the_official_code_on_a_noisy_decreasing_sequence(decay: float | None) -> None:
    generator = np.random.default_rng(0)
    steps = np.arange(60)[:, None]
    sequence = np.exp(-steps / np.array([20.0, 80.0, 5.0])) * generator.uniform(0.8, 1.2, (60, 3)) + 0.05
    strategy = cov(decay=decay)
    context = StepContext(1, 0, ("a", "b", "c"))
    ours = np.array([strategy.weights(torch.tensor(row), context).numpy() for row in sequence])
    np.testing.assert_allclose(ours, official(sequence, decay), rtol=1e-10, atol=1e-12)


def test_weights_do_not_change_when_every_loss_is_scaled_alike() -> None:
    first, scaled = cov(), cov()
    for row in ([1.0, 2.0], [0.7, 1.9], [0.6, 1.5], [0.4, 1.4]):
        ours = weights(first, row)
        theirs = weights(scaled, [100.0 * value for value in row])
    assert_close(ours, theirs)


def test_a_task_without_labels_gets_weight_zero_and_keeps_its_statistics() -> None:
    strategy = cov()
    for row in ([1.0, 2.0], [0.5, 2.0], [0.25, 1.0]):
        weights(strategy, row)
    counts = strategy.counts_.clone()  # type: ignore[attr-defined]
    w = weights(strategy, [0.2, 0.0], present=(True, False))
    assert_close(w, torch.tensor([1.0, 0.0], dtype=torch.float64))
    assert strategy.counts_.tolist() == [counts[0] + 1, counts[1]]  # type: ignore[attr-defined]


def test_the_decay_must_lie_strictly_between_zero_and_one() -> None:
    with pytest.raises(ConfigError, match=r"strategy\.decay"):
        create("cov", decay=1.0)
