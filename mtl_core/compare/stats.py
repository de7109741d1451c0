"""Statistics of a comparison: per-method summaries, paired tests against the baseline, Δm%, and their words.

Everything here is a pure function of per-seed values (``None`` marks a seed without a value:
a diverged or stopped run), so the numbers and sentences can be checked on tables made by hand.

Paired tests compare a method with the baseline seed by seed. The verdict follows the paired
t-test (scipy.stats.ttest_rel, two-sided, α = 0.05); the Wilcoxon signed-rank test
(scipy.stats.wilcoxon, two-sided, exact for small N) is reported beside it. With 5 seeds the exact
two-sided Wilcoxon p cannot go below 2/2⁵ = 0.0625, so on its own it can never reach 0.05 there.
"""

from __future__ import annotations

import math
import statistics
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, TypeAlias

from scipy import stats as scipy_stats

Values: TypeAlias = Sequence[float | None]  # one entry per seed; None: no value for that seed
Outcome: TypeAlias = Literal["better", "worse", "no clear difference", "cannot tell"]
ALPHA = 0.05
MIN_SEEDS = 5  # fewer paired seeds than this make any verdict weak evidence


def describe(values: Values) -> dict[str, Any]:
    """Mean, sample standard deviation (n − 1) and count of the values present, and all per-seed values.

    >>> describe([1.0, None, 3.0])
    {'mean': 2.0, 'std': 1.4142135623730951, 'n': 2, 'values': [1.0, None, 3.0]}
    """
    kept = [float(value) for value in values if value is not None]
    return {"mean": statistics.fmean(kept) if kept else None,
            "std": statistics.stdev(kept) if len(kept) > 1 else None,
            "n": len(kept), "values": [None if value is None else float(value) for value in values]}


def paired(method: Values, baseline: Values, higher_is_better: bool) -> dict[str, Any]:
    """Seed-by-seed differences method − baseline (in the metric's units) and two paired tests.

    ``wins`` counts the seeds where the method is better (direction-aware), ``losses`` where it is
    worse; seeds where either value is missing are left out (``n`` counts the pairs kept).
    """
    diffs = [None if m is None or b is None else float(m) - float(b) for m, b in zip(method, baseline, strict=True)]
    kept = [diff for diff in diffs if diff is not None]
    sign = 1.0 if higher_is_better else -1.0
    pairs = [(float(m), float(b)) for m, b in zip(method, baseline, strict=True) if m is not None and b is not None]
    return {"mean_diff": statistics.fmean(kept) if kept else None,
            "std_diff": statistics.stdev(kept) if len(kept) > 1 else None,
            "wins": sum(sign * diff > 0 for diff in kept), "losses": sum(sign * diff < 0 for diff in kept),
            "n": len(kept), "p_wilcoxon": p_wilcoxon(kept), "p_t": p_t(pairs), "diffs": diffs}


def p_wilcoxon(diffs: Sequence[float]) -> float | None:
    """Two-sided p of the Wilcoxon signed-rank test of the differences; None with fewer than 2 or all zero."""
    if len(diffs) < 2 or not any(diffs):
        return None
    return _finite(lambda: scipy_stats.wilcoxon(diffs).pvalue)


def p_t(pairs: Sequence[tuple[float, float]]) -> float | None:
    """Two-sided p of the paired t-test of (method, baseline) pairs; None with fewer than 2 or all equal."""
    if len(pairs) < 2:
        return None
    method, baseline = zip(*pairs, strict=True)
    return _finite(lambda: scipy_stats.ttest_rel(method, baseline).pvalue)


def _finite(test: Callable[[], Any]) -> float | None:
    with warnings.catch_warnings():  # near-identical differences warn about precision; the p is still reported
        warnings.simplefilter("ignore", RuntimeWarning)
        value = float(test())
    return value if math.isfinite(value) else None


def delta_m(method: Mapping[str, float], baseline: Mapping[str, float],
            higher_is_better: Mapping[str, bool]) -> float | None:
    """Δm% of one method against the baseline (Navon et al., 2022, Nash-MTL, after Maninis et al., 2019):

    Δm% = (100 / T) Σ_t (−1)^δ_t (M_m,t − M_b,t) / M_b,t, δ_t = 1 when higher is better for task t,
    so a negative Δm% means the method is better. None when a value is missing or a baseline is 0.

    >>> round(delta_m({"q": 0.65, "g": 0.78}, {"q": 0.70, "g": 0.80}, {"q": False, "g": True}), 2)
    -2.32
    """
    terms = []
    for task, higher in higher_is_better.items():
        m, b = method.get(task), baseline.get(task)
        if m is None or b is None or b == 0:
            return None
        terms.append((-1.0 if higher else 1.0) * (m - b) / b)
    return 100.0 * sum(terms) / len(terms) if terms else None


def delta_m_sentence(mean: float | None, std: float | None, n: int, method: str, total: int | None = None) -> str:
    """Δm% in words, since its sign confuses: negative is better. ``total``: the seeds run, when more than ``n``
    (the seeds with a value) were.

    >>> delta_m_sentence(-2.3217, 0.5, 5, "equal")
    'equal: on average 2.3 % better than training each task alone (Δm% = −2.32 ± 0.50 over 5 seeds)'
    >>> delta_m_sentence(1.0, None, 1, "equal", total=3).partition("alone ")[2]
    '(Δm% = +1.00 over 1 of 3 seeds; the others lack a value: see the notes)'
    """
    if mean is None:
        return f"{method}: no seed has results for every task of both {method} and the single-task baseline"
    spread = f" ± {std:.2f}" if std is not None else ""
    counted = (f"{n} of {total} seeds; the others lack a value: see the notes" if total is not None and total > n
               else f"{n} seed{'s' if n != 1 else ''}")
    numbers = f"(Δm% = {signed(mean, 2)}{spread} over {counted})"
    if round(abs(mean), 1) == 0:
        return f"{method}: on average as good as training each task alone {numbers}"
    word = "better" if mean < 0 else "worse"
    return f"{method}: on average {abs(mean):.1f} % {word} than training each task alone {numbers}"


def delta_m_summary(values: Values, method: str) -> dict[str, Any]:
    """Per-seed Δm% summarised: mean, sample std, the values, and the sentence."""
    summary = describe(values)
    return {**summary, "sentence": delta_m_sentence(summary["mean"], summary["std"], summary["n"], method,
                                                    total=len(values))}


def outcome(comparison: Mapping[str, Any], higher_is_better: bool) -> Outcome:
    """better / worse / no clear difference from the paired t-test at α = 0.05; cannot tell below 2 pairs."""
    if comparison["n"] < 2:
        return "cannot tell"
    p, diff = comparison["p_t"], comparison["mean_diff"]
    if p is None or p >= ALPHA or diff == 0:
        return "no clear difference"
    return "better" if (diff > 0) == higher_is_better else "worse"


def verdict(task: str, metric: str, higher_is_better: bool, comparison: Mapping[str, Any],
            method: str) -> dict[str, Any]:
    """The outcome of ``method`` against single-task training on one task, and a plain sentence.

    ``weak`` is true with fewer than ``MIN_SEEDS`` pairs: the sentence then says so, whatever the p-value.

    >>> print(verdict("good", "accuracy", True, {"n": 1, "mean_diff": -0.04, "diffs": [-0.04]}, "equal")["text"])
    good: one seed cannot tell whether multi-task (equal) is better or worse than single-task (accuracy −0.040 in \
that seed); run more seeds
    """
    result = outcome(comparison, higher_is_better)
    n, diff = comparison["n"], comparison["mean_diff"]
    if n == 0:
        text = f"{task}: no seed has {metric} for both multi-task ({method}) and single-task; nothing to compare"
    elif result == "cannot tell":
        text = (f"{task}: one seed cannot tell whether multi-task ({method}) is better or worse than single-task "
                f"({metric} {signed(diff)} in that seed); run more seeds")
    else:
        text = f"{task}: {_claim(result, method)} ({_evidence(metric, comparison, result)})"
        if n < MIN_SEEDS:
            text += f". Only {n} seeds: weak evidence either way; run {MIN_SEEDS} or more before trusting it"
    return {"outcome": result, "text": text, "weak": n < MIN_SEEDS}


def seeds_caution(n_seeds: int) -> str | None:
    """A warning for a comparison over fewer than ``MIN_SEEDS`` seeds, else None.

    >>> seeds_caution(5) is None
    True
    """
    if n_seeds >= MIN_SEEDS:
        return None
    return (f"{n_seeds} seed{'s' if n_seeds != 1 else ''} {'is' if n_seeds == 1 else 'are'} weak evidence: with fewer "
            f"than {MIN_SEEDS} seeds a p-value rests on too few pairs to trust (the Wilcoxon test cannot even reach "
            f"p < {ALPHA} below 6), and one unlucky seed decides the mean. Read the verdicts as hints and run "
            f"{MIN_SEEDS} or more seeds.")


def _claim(result: Outcome, method: str) -> str:
    if result == "no clear difference":
        return f"no clear difference between multi-task ({method}) and single-task"
    return f"multi-task ({method}) is {result} than single-task"


def _evidence(metric: str, comparison: Mapping[str, Any], result: Outcome) -> str:
    """'accuracy −0.040 ± 0.017, worse in 10 of 10 seeds; paired t-test p < 0.001, Wilcoxon p = 0.002'."""
    n, spread = comparison["n"], comparison["std_diff"]
    counted = ("worse", comparison["losses"]) if result == "worse" else ("better", comparison["wins"])
    difference = f"{metric} {plus_minus(comparison['mean_diff'], spread, sign=True)}"
    tests = f"paired t-test {p_text(comparison['p_t'])}, Wilcoxon {p_text(comparison['p_wilcoxon'])}"
    return f"{difference}, {counted[0]} in {counted[1]} of {n} seeds; {tests}"


def p_text(p: float | None) -> str:
    """'p < 0.001', 'p = 0.042' or 'p n/a' (the test cannot be computed, e.g. identical values)."""
    if p is None:
        return "p n/a"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def number(value: float, decimals: int | None = None) -> str:
    """Three decimals, or two significant digits for small values (or ``decimals``); a true minus sign.

    >>> number(-0.0401), number(0.000123), number(0.0081, 3)
    ('−0.040', '0.00012', '0.008')
    """
    places = decimals_for(value) if decimals is None else decimals
    return f"{value:.{places}f}".replace("-", "−")


def decimals_for(value: float) -> int:
    """3, or enough decimals to show two significant digits of a value below 0.01 (and above rounding noise)."""
    if not math.isfinite(value) or abs(value) >= 0.01 or abs(value) < 1e-9:
        return 3
    return 1 - math.floor(math.log10(abs(value)))


def plus_minus(mean: float, std: float | None, sign: bool = False) -> str:
    """'0.744 ± 0.008': both with the decimals of the larger; ``sign`` shows '+' on a positive mean.

    >>> plus_minus(0.7441, 0.0081), plus_minus(-0.04, 0.0172, sign=True), plus_minus(1e-18, 0.0012, sign=True)
    ('0.744 ± 0.008', '−0.040 ± 0.017', '+0.0000 ± 0.0012')
    """
    places = decimals_for(max(abs(mean), std or 0.0))  # a mean near 0 keeps the decimals of its spread
    text = number(mean, places)
    if sign and not text.startswith("−"):
        text = "+" + text
    return text + (f" ± {number(std, places)}" if std is not None else "")


def signed(value: float, decimals: int | None = None) -> str:
    """A difference with its sign always shown: '+0.012', '−0.040'."""
    text = number(value, decimals)
    return text if text.startswith("−") else f"+{text}"
