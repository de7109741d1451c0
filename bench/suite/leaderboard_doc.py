"""The leaderboard's summary (per data set: each method's per-task mean ± std and Δm%; overall: mean rank, ties with
the best) from the cached runs, and ``docs/leaderboard.md`` from the summary."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bench.suite.leaderboard import TREE, Budget, Cache, set_config
from bench.suite.ranking import beats_all, mean_ranks, tie_with_best
from bench.suite.records import record
from mtl_core.compare.runs import STL
from mtl_core.compare.stats import delta_m, describe, plus_minus
from mtl_core.experiment import resolve
from mtl_core.tasks import higher_is_better

REFERENCE = "equal"  # the method whose ties with the best are counted


def metric_of(entry: dict[str, Any] | None, task: str, metric: str) -> float | None:
    if entry is None or entry.get("status") != "completed":
        return None
    value = entry.get("test", {}).get(task, {}).get(metric)
    return None if value is None else float(value)


def summarise_set(data_set: str, budget: Budget, cache: Cache) -> dict[str, Any] | None:
    """One data set's block, or None while none of its runs is cached."""
    config = resolve(set_config(data_set, budget))
    tasks = [(task.name, str(task.metric), higher_is_better(str(task.metric))) for task in config.tasks]
    methods = budget.methods()
    if not any(cache.get(data_set, method, seed) for method in methods for seed in budget.seeds):
        return None
    values = {method: {task: [metric_of(cache.get(data_set, method, seed), task, metric) for seed in budget.seeds]
                       for task, metric, _ in tasks} for method in methods}
    directions = {task: higher for task, _, higher in tasks}
    deltas = {method: [_delta(values, method, index, directions) for index in range(len(budget.seeds))]
              for method in methods if method != STL}
    return {"tasks": [{"name": task, "metric": metric, "higher_is_better": higher} for task, metric, higher in tasks],
            "results": {method: {task: describe(seeds) for task, seeds in per_task.items()}
                        for method, per_task in values.items()},
            "delta_m": {method: describe(seeds) for method, seeds in deltas.items()},
            "status": {method: _statuses(cache, data_set, method, budget.seeds) for method in methods}}


def _delta(values: dict[str, dict[str, list[float | None]]], method: str, index: int,
           directions: dict[str, bool]) -> float | None:
    mine = {task: seeds[index] for task, seeds in values[method].items() if seeds[index] is not None}
    base = {task: seeds[index] for task, seeds in values[STL].items() if seeds[index] is not None}
    return delta_m(mine, base, directions)  # type: ignore[arg-type]


def _statuses(cache: Cache, data_set: str, method: str, seeds: Sequence[int]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for seed in seeds:
        entry = cache.get(data_set, method, seed)
        status = "missing" if entry is None else str(entry.get("status"))
        counts[status] = counts.get(status, 0) + 1
    return counts


def summarise(budget: Budget, cache: Cache) -> dict[str, Any]:
    """Every data set's block, the strategies' mean rank by mean Δm%, the ties of ``equal`` with the best, and
    where the boosted tree beats every MLP."""
    sets = {name: block for name in budget.sets if (block := summarise_set(name, budget, cache)) is not None}
    strategies = [method for method in budget.methods() if method not in (STL, TREE)]
    scores = {name: {method: block["delta_m"][method]["mean"] for method in strategies} for name, block in sets.items()}
    ties = {name: tie_with_best({method: _kept(block["delta_m"][method]["values"]) for method in strategies},
                                REFERENCE) for name, block in sets.items()}
    return {"budget": budget, "sets": sets, "mean_rank": mean_ranks(scores), "ties": ties,
            "tree_wins": {name: tree_wins(block) for name, block in sets.items()}}


def _kept(values: Sequence[float | None]) -> list[float]:
    return [value for value in values if value is not None]


def tree_wins(block: dict[str, Any]) -> list[str]:
    """The tasks of a data set where the boosted tree's mean is better than every MLP's (strategies and STL)."""
    wins = []
    for task in block["tasks"]:
        tree = block["results"][TREE][task["name"]]["mean"]
        others = [summary[task["name"]]["mean"] for method, summary in block["results"].items() if method != TREE]
        present = [value for value in others if value is not None]
        if tree is not None and present and beats_all(tree, present, task["higher_is_better"]):
            wins.append(task["name"])
    return wins


def markdown(summary: dict[str, Any], command: str, machine: str) -> str:
    """docs/leaderboard.md."""
    budget: Budget = summary["budget"]
    lines = ["# Leaderboard", "",
             "Every registered weighting strategy on every built-in data set, trained with the same budget, "
             f"{len(budget.seeds)} seeds each, with two references: the single-task baseline (`stl`: one network "
             "per task, same trunk and training settings, as `python -m mtl_core compare` trains it) and a "
             "scikit-learn HistGradientBoosting model per task (`hgb`: regressor or classifier by task kind, "
             "default settings, fitted on the engine's own training rows and preprocessed features, scored on "
             "the same test rows).", "",
             f"Produced by: `{command}` (runs are cached per data set and budget, method and seed in "
             "`~/.cache/mtl-lab/bench/leaderboard.json`, or under `--cache DIR`; the same command resumes a stopped "
             "run and, once everything is cached, only rewrites this page).", "",
             "Settings: each data set's default config (its default tasks and primary metrics, `hps` with hidden "
             "128→128, Adam, default learning rate and weight decay) with one budget per data set, the same for "
             f"every method: {training_text(budget)}; "
             f"training seeds {', '.join(map(str, budget.seeds))} (`data.split_seed` fixed, so every method is scored "
             "on the same test rows), each strategy at its default hyper-parameters, one torch thread. "
             "`mmoe-synthetic` at label correlation p = 0.5. "
             "Δm% is the engine's (`mtl_core.compare.stats.delta_m`, Navon et al. 2022): the mean relative "
             "change of the primary metrics against the single-task baseline of the same seed, negative is better. "
             "Ranks are by mean Δm% per data set (1 = best), averaged over data sets. A strategy is tied with "
             "the best when Welch's t-test on the per-seed Δm% gives p > 0.05.", "",
             f"Machine: {machine}.", ""]
    lines += overall(summary)
    for name, block in summary["sets"].items():
        lines += set_table(name, block, summary)
    missing = [name for name in budget.sets if name not in summary["sets"]]
    if missing:
        lines += ["", f"Not run yet: {', '.join(missing)}."]
    return "\n".join(lines).rstrip("\n") + "\n"


def training_text(budget: Budget) -> str:
    """Each set's epochs and batch size in words."""
    parts = []
    for name in budget.sets:
        epochs, batch = budget.training(name)
        parts.append(f"{name} {epochs} epochs, {'full batch' if batch == 0 else f'batches of {batch}'}")
    return "; ".join(parts)


def overall(summary: dict[str, Any]) -> list[str]:
    """The mean-rank table and the sentences about ties and trees."""
    ranks = summary["mean_rank"]
    ties = summary["ties"]
    tied = [name for name, tie in ties.items() if tie["tied"]]
    lines = ["## Overall", "", f"Data sets: {len(summary['sets'])}.", "",
             "| # | strategy | mean rank | best on |", "|---:|---|---:|---|"]
    for position, (method, rank) in enumerate(ranks.items(), start=1):
        best_on = ", ".join(name for name, tie in ties.items() if tie["best"] == method) or "—"
        lines.append(f"| {position} | {method} | {rank:.2f} | {best_on} |")
    lines += ["", f"`{REFERENCE}` is statistically tied with the best strategy on {len(tied)} of {len(ties)} data sets"
              + (f" ({', '.join(tied)})." if tied else "."), ""]
    twins = identical(summary)
    if twins:
        lines += ["Methods whose every test metric was identical to another's on every data set and seed (at their "
                  "default settings): " + "; ".join(" = ".join(group) for group in twins) + ".", ""]
    wins = {name: tasks for name, tasks in summary["tree_wins"].items() if tasks}
    if wins:
        lines.append("**Where a boosted tree beats every MLP** (its mean test metric is better than every strategy's "
                     "and the single-task baseline's): "
                     + "; ".join(f"{name}: {', '.join(tasks)}" for name, tasks in wins.items()) + ".")
    else:
        lines.append("A boosted tree beats every MLP on no task.")
    return lines + [""]


def identical(summary: dict[str, Any]) -> list[list[str]]:
    """Groups of methods with the same per-seed primary metrics on every data set."""
    prints: dict[str, list[Any]] = {}
    for block in summary["sets"].values():
        for method, per_task in block["results"].items():
            prints.setdefault(method, []).append([per_task[task["name"]]["values"] for task in block["tasks"]])
    groups: dict[str, list[str]] = {}
    for method, values in prints.items():
        groups.setdefault(repr(values), []).append(method)
    return [group for group in groups.values() if len(group) > 1]


def set_table(name: str, block: dict[str, Any], summary: dict[str, Any]) -> list[str]:
    """One data set: a row per method, per-task mean ± std of the primary metric, Δm%, rank."""
    tasks = block["tasks"]
    scores = {method: summary_value["mean"] for method, summary_value in block["delta_m"].items()
              if method != TREE}
    order = sorted(block["results"], key=lambda method: _order(method, scores))
    tie = summary["ties"][name]
    arrows = {True: "↑", False: "↓"}
    header = "| method | " + " | ".join(f"{task['name']} ({task['metric']}, {arrows[task['higher_is_better']]})"
                                      for task in tasks) + " | Δm% | runs |"
    lines = [f"## {name}", "", f"Best strategy: {tie['best']}; {REFERENCE} "
             + ("is the best." if tie["best"] == REFERENCE else
                f"{'is tied with it' if tie['tied'] else 'is not tied with it'} (Welch p = {_p(tie['p'])})."), "",
             header, "|---|" + "---:|" * len(tasks) + "---:|---|"]
    for method in order:
        cells = [_mean_std(block["results"][method][task["name"]]) for task in tasks]
        delta = "0 (reference)" if method == STL else _mean_std(block["delta_m"][method], signed=True)
        status = ", ".join(f"{count} {word}" for word, count in block["status"][method].items())
        lines.append(f"| {method} | " + " | ".join(cells) + f" | {delta} | {status} |")
    return lines + [""]


def _order(method: str, scores: dict[str, float | None]) -> tuple[int, float, str]:
    if method in (STL, TREE):
        return (1, 0.0, method)
    score = scores.get(method)
    return (0, score if score is not None else float("inf"), method)


def _mean_std(summary: dict[str, Any], signed: bool = False) -> str:
    if summary["mean"] is None:
        return "—"
    return plus_minus(summary["mean"], summary["std"], sign=signed)


def _p(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def records(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """The suite's measurement records: each method's mean primary metric per task (baseline: STL) and Δm%."""
    out: list[dict[str, Any]] = []
    for name, block in summary["sets"].items():
        for method, per_task in block["results"].items():
            for task in block["tasks"]:
                value, base = per_task[task["name"]]["mean"], block["results"][STL][task["name"]]["mean"]
                out.append(record("leaderboard", {"set": name, "method": method, "task": task["name"]}, value,
                                  task["metric"], base))
            if method != STL:
                out.append(record("leaderboard", {"set": name, "method": method, "task": "Δm%"},
                                  block["delta_m"][method]["mean"], "%", 0.0))
    for method, rank in summary["mean_rank"].items():
        out.append(record("leaderboard", {"method": method, "task": "mean rank"}, rank, "rank"))
    return out
