"""Plain-language readings of a run's diagnostics (``RESULTS.json``'s ``diagnostics``, one record per epoch): the
numbers the Insight page's captions state, computed from the records. Pure Python: no PyTorch, no plotting.

Run-level values weigh each epoch by the steps it measured (``steps``), so they are means over every measured step.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mtl_core.insight.affinity import Affinity, advice, mean_affinity, pair_advice, recommended

Record = Mapping[str, Any]


def task_names(results: Mapping[str, Any]) -> list[str]:
    """The run's tasks in order, from its resolved config (else from the first record's norms)."""
    names = [str(task["name"]) for task in (results.get("config") or {}).get("tasks") or []]
    records = results.get("diagnostics") or []
    return names or (list(records[0].get("norms", {})) if records else [])


def task_pairs(tasks: Sequence[str]) -> list[tuple[str, str]]:
    """Every pair (a, b) with a before b, in task order; its record key is ``"a|b"``."""
    return [(a, b) for index, a in enumerate(tasks) for b in tasks[index + 1:]]


def run_mean(records: Sequence[Record], field: str, key: str) -> float | None:
    """The step-weighted mean of ``record[field][key]`` over the epochs that have it; None when none has."""
    total = weight = 0.0
    for record in records:
        value = (record.get(field) or {}).get(key)
        if value is not None:
            steps = float(record.get("steps") or 1)
            total, weight = total + steps * float(value), weight + steps
    return total / weight if weight else None


def percent(value: float) -> str:
    """``0.384`` → ``'38 %'``."""
    return f"{100 * value:.0f} %"


def conflict_caption(records: Sequence[Record], tasks: Sequence[str]) -> str:
    """How often each pair's gradients on the shared parameters pointed apart (negative cosine), worst pairs first."""
    readings = [(run_mean(records, "negative_fraction", f"{a}|{b}"), run_mean(records, "cosine", f"{a}|{b}"), a, b)
                for a, b in task_pairs(tasks)]
    found = sorted([(share, cosine, a, b) for share, cosine, a, b in readings if share is not None and
                    cosine is not None], key=lambda item: -item[0])
    if not found:
        return "No two tasks were labelled in the same batch, so no pair of gradients could be compared."
    lines = []
    for share, cosine, a, b in found[:3]:
        who = "The two tasks" if len(tasks) == 2 else f"{a} and {b}"
        lines.append(f"{who} pull the shared layers in opposite directions in {percent(share)} of the measured "
                     f"steps (mean cosine {cosine:+.2f}: {_agreement(cosine)}).")
    if len(found) > 3:
        lines.append(f"{len(found) - 3} more pairs conflict less often.")
    return " ".join(lines)


def _agreement(cosine: float) -> str:
    if cosine > 0.5:
        return "they mostly agree"
    if cosine > 0.1:
        return "they agree a little"
    if cosine > -0.1:
        return "nearly unrelated directions"
    return "they mostly disagree"


def trend_caption(records: Sequence[Record], tasks: Sequence[str]) -> str:
    """Whether conflict grew or shrank: the first third of the epochs against the last third."""
    if len(records) < 3 or len(tasks) < 2:
        return ""
    third = max(len(records) // 3, 1)
    early, late = records[:third], records[-third:]
    changes = []
    for a, b in task_pairs(tasks):
        before, after = (run_mean(part, "negative_fraction", f"{a}|{b}") for part in (early, late))
        if before is not None and after is not None:
            changes.append((after - before, a, b, before, after))
    if not changes:
        return ""
    change, a, b, before, after = max(changes, key=lambda item: abs(item[0]))
    if abs(change) < 0.05:
        return "The share of conflicting steps stays about the same from the first epochs to the last."
    way = "grows" if change > 0 else "falls"
    return f"Conflict between {a} and {b} {way} from {percent(before)} of the steps early on to {percent(after)} late."


def norm_caption(records: Sequence[Record], tasks: Sequence[str]) -> str:
    """Which task's gradient is largest on average, and by how much against the smallest."""
    means = {task: value for task in tasks if (value := run_mean(records, "norms", task)) is not None}
    if len(means) < 2:
        return ""
    largest, smallest = max(means, key=lambda task: means[task]), min(means, key=lambda task: means[task])
    if means[smallest] <= 0:
        return f"{smallest}'s gradient on the shared layers is zero: it does not reach them."
    ratio = means[largest] / means[smallest]
    if ratio < 1.5:
        return "The tasks' gradients on the shared layers have similar sizes (within 1.5×)."
    return (f"{largest}'s gradient on the shared layers is {ratio:.1f}× the size of {smallest}'s on average: "
            f"with plain summed losses it dominates the shared update.")


def angle_caption(records: Sequence[Record], tasks: Sequence[str]) -> str:
    """Which task the update leans towards: its mean angle to each task's gradient."""
    means = {task: value for task in tasks if (value := run_mean(records, "angles", task)) is not None}
    if not means:
        return ""
    closest = min(means, key=lambda task: means[task])
    parts = ", ".join(f"{means[task]:.0f}° from {task}'s" for task in means)
    over = [task for task in means if means[task] > 90]
    tail = (f" More than 90° from {', '.join(over)}: the update raises that loss, to first order." if over else
            " Under 90° from every task: to first order every loss goes down.")
    return f"The update direction is on average {parts} gradient; it leans towards {closest}.{tail}"


def weights_caption(records: Sequence[Record], tasks: Sequence[str]) -> str:
    """The mean implied weights of a gradient method (direction = wᵀJ), largest first."""
    means = {task: value for task in tasks if (value := run_mean(records, "implied_weights", task)) is not None}
    if not means:
        return ""
    ordered = sorted(means, key=lambda task: -means[task])
    return ("Read as task weights (the direction written as a weighted sum of the task gradients), the method gave "
            + ", ".join(f"{task} {means[task]:.3g}" for task in ordered) + " on average.")


def run_affinity(records: Sequence[Record]) -> dict[str, dict[str, float]]:
    """The run's lookahead affinity matrix (TAG), the mean over every measured step."""
    return mean_affinity(records)


def affinity_caption(affinity: Affinity, tasks: Sequence[str]) -> str:
    """What the affinity suggests: the TAG grouping for 3 or more tasks, the pair's reading for 2."""
    if not affinity:
        return ""
    if len(tasks) == 2:
        return pair_advice(affinity, tasks[0], tasks[1])
    grouping = recommended(affinity, list(tasks))
    if grouping is None:
        return "Too many tasks to search every grouping; read the matrix row by row."
    return (f"{advice(grouping)} (TAG's score {grouping.score:.3g}: the summed mean affinity onto each task from "
            f"its group.)")


def gate_caption(record: Record, level: int = 0) -> str:
    """At one epoch: each task's favourite expert and how different the tasks' gates are (total variation)."""
    levels = ((record.get("model") or {}).get("gates")) or []
    if level >= len(levels) or not levels[level]:
        return ""
    gates: Mapping[str, Mapping[str, float]] = levels[level]
    favourites = [f"{task} leans most on {max(weights, key=lambda e: weights[e])} "
                  f"({percent(max(weights.values()))})" for task, weights in gates.items() if weights]
    names = list(gates)
    distances = [0.5 * sum(abs(gates[a].get(e, 0.0) - gates[b].get(e, 0.0)) for e in {*gates[a], *gates[b]})
                 for a, b in task_pairs(names)]
    spread = (f" The tasks' gates differ by {percent(sum(distances) / len(distances))} on average (total "
              f"variation: 0 % means the same mixture of experts, 100 % separate experts)." if distances else "")
    return f"At epoch {record.get('epoch')}: " + "; ".join(favourites) + "." + spread


def cross_stitch_caption(records: Sequence[Record], tasks: Sequence[str]) -> str:
    """How much of its own column each task keeps at the last epoch, per stage (cross-stitch units start at 90 %)."""
    units = ((records[-1].get("model") or {}).get("cross_stitch")) if records else None
    if not units:
        return ""
    kept = [sum(stage[task][task] for task in tasks if task in stage) / max(len(stage), 1) for stage in units]
    stages = ", ".join(f"stage {index + 1}: {percent(value)}" for index, value in enumerate(kept))
    return (f"After epoch {records[-1].get('epoch')} each task's column keeps on average this much of its own "
            f"activations ({stages}); they started at 90 %. Less means the tasks share more.")


def distance_caption(records: Sequence[Record]) -> str:
    """How the soft-sharing trunks' relative distance moved from the first epoch to the last."""
    first, last = ((records[index].get("model") or {}).get("relative_distances") if records else None
                   for index in (0, -1))
    if not first or not last:
        return ""
    parts = [f"{key.replace('|', ' and ')}: {first[key]:.2f} → {last[key]:.2f}" for key in last if key in first]
    return ("Distance between the tasks' trunks relative to their size, first epoch → last: " + "; ".join(parts)
            + ". The penalty pulls them together; the tasks' own losses pull them apart.")
