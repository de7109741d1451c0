"""Statistics of a comparison on tables made by hand: Δm%, paired tests against scipy, sentences, verdicts."""

from __future__ import annotations

from typing import Any

import pytest
from scipy import stats as scipy_stats

from mtl_core.compare import delta_m, delta_m_sentence, describe, paired, verdict
from mtl_core.compare.report import build_summary
from mtl_core.compare.stats import delta_m_summary, seeds_caution
from mtl_core.config import ExperimentConfig
from mtl_core.experiment import resolve
from mtl_core.results import RunResults

STL_ACCURACY = [0.78, 0.79, 0.80, 0.77, 0.81]


def test_delta_m_matches_the_worked_example() -> None:
    # baseline RMSE 0.70 and accuracy 0.80; multi-task 0.65 and 0.78: (−7.14 % + 2.5 %) / 2
    value = delta_m({"quality": 0.65, "good": 0.78}, {"quality": 0.70, "good": 0.80},
                    {"quality": False, "good": True})
    assert value == pytest.approx(-2.3214, abs=1e-4) and round(value, 2) == -2.32


def test_delta_m_is_positive_when_multi_task_is_worse_on_every_task() -> None:
    value = delta_m({"a": 1.1, "b": 0.72}, {"a": 1.0, "b": 0.80}, {"a": False, "b": True})
    assert value == pytest.approx(100 * (0.1 + 0.1) / 2)


def test_delta_m_is_missing_without_every_task_or_with_a_zero_baseline() -> None:
    assert delta_m({"a": 1.0}, {"a": 1.0, "b": 0.5}, {"a": False, "b": True}) is None
    assert delta_m({"a": 1.0}, {"a": 0.0}, {"a": False}) is None


def test_the_delta_m_sentence_says_better_for_a_negative_value() -> None:
    assert delta_m_sentence(-2.32, 0.4, 5, "equal").startswith(
        "equal: on average 2.3 % better than training each task alone (Δm% = −2.32 ± 0.40 over 5 seeds)")
    assert "1.6 % worse than training each task alone" in delta_m_sentence(1.57, 3.3, 5, "pcgrad")
    assert "as good as" in delta_m_sentence(0.01, 0.2, 5, "equal")
    assert "no seed has results" in delta_m_sentence(None, None, 0, "equal")


def test_describe_gives_the_sample_std_and_keeps_missing_seeds() -> None:
    summary = describe([0.70, None, 0.74, 0.78])
    assert summary["mean"] == pytest.approx(0.74) and summary["std"] == pytest.approx(0.04)
    assert summary["n"] == 3 and summary["values"] == [0.70, None, 0.74, 0.78]
    assert describe([0.7])["std"] is None and describe([None])["mean"] is None


def test_paired_p_values_equal_scipy_on_the_same_pairs() -> None:
    method = [0.74, 0.75, 0.73, 0.76, 0.745]
    comparison = paired(method, STL_ACCURACY, higher_is_better=True)
    assert comparison["p_t"] == pytest.approx(scipy_stats.ttest_rel(method, STL_ACCURACY).pvalue, rel=1e-12)
    assert comparison["p_wilcoxon"] == pytest.approx(scipy_stats.wilcoxon(method, STL_ACCURACY).pvalue, rel=1e-12)
    assert comparison["p_wilcoxon"] == pytest.approx(0.0625)  # 5 seeds, all one way: the smallest exact p
    assert comparison["mean_diff"] == pytest.approx(-0.045) and (comparison["wins"], comparison["losses"]) == (0, 5)


def test_paired_leaves_out_seeds_missing_on_either_side() -> None:
    comparison = paired([0.5, None, 0.6, 0.7], [0.4, 0.5, None, 0.8], higher_is_better=False)
    assert comparison["n"] == 2 and comparison["diffs"] == pytest.approx([0.1, None, None, -0.1])
    assert (comparison["wins"], comparison["losses"]) == (1, 1)  # lower is better: −0.1 wins
    assert comparison["p_t"] == pytest.approx(scipy_stats.ttest_rel([0.5, 0.7], [0.4, 0.8]).pvalue)


def test_paired_tests_are_missing_for_one_pair_or_identical_values() -> None:
    assert paired([0.5], [0.4], True)["p_t"] is None and paired([0.5], [0.4], True)["p_wilcoxon"] is None
    same = paired([0.5, 0.6, 0.7], [0.5, 0.6, 0.7], True)
    assert same["p_t"] is None and same["p_wilcoxon"] is None and same["mean_diff"] == 0.0


def judge(method: list[float | None], baseline: list[float | None], higher: bool = True,
          metric: str = "accuracy") -> dict[str, str]:
    return verdict("good", metric, higher, paired(method, baseline, higher), "equal")


def test_a_consistently_lower_accuracy_is_worse_in_words() -> None:
    method = [value - 0.04 + offset for value, offset in zip(STL_ACCURACY, [0.0, 0.01, -0.01, 0.005, -0.005])]
    result = judge(method, STL_ACCURACY)
    assert result["outcome"] == "worse"
    assert result["text"].startswith("good: multi-task (equal) is worse than single-task "
                                     "(accuracy −0.040 ± 0.008, worse in 5 of 5 seeds; "
                                     "paired t-test p < 0.001, Wilcoxon p = 0.062)")


def test_a_consistently_lower_error_is_better_in_words() -> None:
    baseline = [0.45, 0.44, 0.47, 0.46, 0.43]
    method = [0.41, 0.42, 0.44, 0.43, 0.40]
    result = verdict("quality", "mse", False, paired(method, baseline, False), "pcgrad")
    assert result["outcome"] == "better"
    assert ("multi-task (pcgrad) is better than single-task (mse −0.030 ± 0.007, better in 5 of 5 seeds"
            in result["text"])


def test_differences_that_change_sign_give_no_clear_difference() -> None:
    method = [0.79, 0.78, 0.81, 0.76, 0.81]
    result = judge(method, STL_ACCURACY)
    assert result["outcome"] == "no clear difference"
    assert result["text"].startswith("good: no clear difference between multi-task (equal) and single-task "
                                     "(accuracy +0.000 ± 0.010, better in 2 of 5 seeds; paired t-test p = 1.000")


def test_one_seed_cannot_tell() -> None:
    result = judge([0.74], [0.78])
    assert result["outcome"] == "cannot tell" and "one seed cannot tell" in result["text"]
    assert "accuracy −0.040 in that seed" in result["text"]


def test_without_any_pair_there_is_nothing_to_compare() -> None:
    result = judge([None, 0.7], [0.8, None])
    assert result["outcome"] == "cannot tell" and "nothing to compare" in result["text"]


def test_two_seeds_with_p_below_alpha_are_still_called_weak_evidence() -> None:
    result = judge([0.70, 0.71], [0.78, 0.80])
    assert result["outcome"] == "worse" and "paired t-test p = 0.03" in result["text"]
    assert result["weak"] and "Only 2 seeds: weak evidence either way; run 5 or more" in result["text"]
    five = judge([value - 0.04 + offset for value, offset in zip(STL_ACCURACY, [0.0, 0.01, -0.01, 0.005, -0.005])],
                 STL_ACCURACY)
    assert not five["weak"] and "weak evidence" not in five["text"]


def test_a_comparison_over_fewer_than_five_seeds_carries_a_caution() -> None:
    caution = seeds_caution(2)
    assert caution is not None and caution.startswith("2 seeds are weak evidence") and "5 or more" in caution
    assert seeds_caution(1) is not None and seeds_caution(5) is None


def test_verdicts_are_plain_text_for_the_terminal() -> None:
    for method in ([0.74], [0.70, 0.71], [0.79, 0.78, 0.81, 0.76, 0.81]):
        text = judge(method, STL_ACCURACY[:len(method)])["text"]
        assert text.startswith("good: ") and "`" not in text and "*" not in text


def test_the_delta_m_sentence_counts_the_seeds_left_out() -> None:
    summary = delta_m_summary([1.5, None, None], "equal")
    assert summary["sentence"].endswith("(Δm% = +1.50 over 1 of 3 seeds; the others lack a value: see the notes)")
    assert delta_m_summary([1.5, 2.5], "equal")["sentence"].endswith("over 2 seeds)")


def hand_run(mse: float | None, accuracy: float | None, seed: int) -> RunResults:
    """A completed run's results as the runner returns them, with only the primary test metrics."""
    return RunResults.from_dict({
        "status": "completed", "reason": "", "duration_s": 1.0, "epochs_run": 3, "history": [],
        "config": {"train": {"seed": seed}},
        "metrics": {"test": {"progression": {"mse": mse}, "high_progression": {"accuracy": accuracy}}}})


def test_a_seed_without_delta_m_is_counted_and_explained_in_the_notes() -> None:
    config = resolve(ExperimentConfig())  # diabetes: progression (mse) and high_progression (accuracy)
    table = {"stl": [hand_run(3000.0, 0.7, 0), hand_run(3100.0, 0.0, 1), hand_run(3050.0, 0.72, 2)],
             "equal": [hand_run(2900.0, 0.71, 0), hand_run(3000.0, 0.7, 1), hand_run(None, 0.7, 2)]}
    summary = build_summary(config, [0, 1, 2], ["equal"], [], table)
    assert "over 1 of 3 seeds" in summary["delta_m_percent"]["equal"]["sentence"]
    assert summary["notes"] == [
        "equal, seed 1: single-task accuracy of high_progression is 0, and Δm% divides by it; left out of Δm%",
        "equal, seed 2: equal has no test mse for progression; left out of Δm%"]
