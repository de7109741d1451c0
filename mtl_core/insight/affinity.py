"""Inter-task affinity and task grouping: Fifty, Amid, Zhao, Yu, Anil and Finn, 2021, "Efficiently Identifying Task
Groupings for Multi-Task Learning" (TAG, NeurIPS).

Lookahead affinity (§3.1, Eq. 3): how much one SGD step of the shared parameters θ_s on task i's loss alone changes
task j's loss on the same batch,

    Z_{i→j} = 1 − L_j(θ_s − η ∇_θs L_i, θ_j) / L_j(θ_s, θ_j),

positive when the step on i also lowers j's loss (i helps j), negative when it raises it. The run's matrix is the mean
over the steps on which it was measured (``mtl_core.train.diagnostics``: every k-th step).

Grouping (§3.2, network selection): a task's score in a group is the mean affinity onto it from the group's other
members, (1/(|G|−1)) Σ_{i∈G, i≠j} Z_{i→j} (0 for a task alone: nothing transfers onto it); a grouping's score is the
sum over tasks of the score of the group that holds it. The paper lets groups overlap (a task then takes its best
group); here a grouping is a split of the tasks into disjoint groups, searched exhaustively (at most ``MAX_TASKS``
tasks), which gives the plain advice "train A and B together, C alone".

Pure Python apart from ``lookahead_affinity`` (PyTorch is imported there only), so pages can import this module.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from torch import Tensor

Affinity = Mapping[str, Mapping[str, float]]  # {source task i: {target task j: Z_{i→j}}}
MAX_TASKS = 10  # exhaustive search: 9 330 splits of 10 tasks into 3 groups


def lookahead_affinity(losses_at: Callable[[Mapping[str, Tensor]], Tensor], shared: Mapping[str, Tensor],
                       jacobian: Tensor, rows: Sequence[int], lr: float) -> tuple[Tensor, Tensor]:
    """Z [T, T] of one batch (TAG, Eq. 3) and which entries were measured, [T, T] bool.

    Args:
        losses_at: the batch's per-task losses [T] with the named shared parameters replaced by the given tensors
            (an empty mapping: the current parameters); it must not change the model.
        shared: the shared parameters by name, in the order of the Jacobian's columns.
        jacobian: [len(rows), P], row r is ∇_θs L_{rows[r]} flattened over ``shared``.
        lr: η, the step of the lookahead.

    Row i is measured for the tasks in ``rows``, column j where the batch's loss of j is positive.
    """
    import torch

    with torch.no_grad():
        before = losses_at({}).detach().double()
        affinity = torch.zeros(len(before), len(before), dtype=torch.float64)
        measured = torch.zeros(len(before), len(before), dtype=torch.bool)
        for row, task in enumerate(rows):
            stepped, offset = {}, 0
            for name, parameter in shared.items():
                size = parameter.numel()
                step = jacobian[row, offset:offset + size].view_as(parameter).to(parameter.dtype)
                stepped[name] = parameter.detach() - lr * step  # a new tensor: the parameter itself is untouched
                offset += size
            after = losses_at(stepped).detach().double()
            usable = (before > 0) & after.isfinite()
            affinity[task] = torch.where(usable, 1.0 - after / before.clamp_min(torch.finfo(torch.float64).tiny), 0.0)
            measured[task] = usable
    return affinity, measured


def mean_affinity(records: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, float]]:
    """The run's affinity matrix: the per-epoch ``affinity`` of diagnostics records, weighted by their measured
    steps (``affinity_steps``), so it is the mean over every measured step."""
    sums: dict[str, dict[str, float]] = {}
    weights: dict[str, dict[str, float]] = {}
    for record in records:
        steps = float(record.get("affinity_steps") or 0)
        for source, onto in (record.get("affinity") or {}).items():
            for target, value in onto.items():
                sums.setdefault(source, {}).setdefault(target, 0.0)
                weights.setdefault(source, {}).setdefault(target, 0.0)
                sums[source][target] += steps * value
                weights[source][target] += steps
    return {source: {target: value / weights[source][target] for target, value in onto.items()
                     if weights[source][target] > 0} for source, onto in sums.items()}


def score_onto(affinity: Affinity, group: Sequence[str], task: str) -> float:
    """Task's score in ``group``: the mean affinity onto it from the group's other members (0 alone).

    >>> score_onto({"a": {"c": 0.4}, "b": {"c": 0.2}}, ["a", "b", "c"], "c")
    0.30000000000000004
    """
    others = [source for source in group if source != task]
    if not others:
        return 0.0
    return sum(float(affinity.get(source, {}).get(task, 0.0)) for source in others) / len(others)


@dataclass(frozen=True, slots=True)
class Grouping:
    """A split of the tasks into groups and its score (sum over tasks of their score in their group)."""

    groups: tuple[tuple[str, ...], ...]
    score: float

    def to_dict(self) -> dict[str, Any]:
        return {"groups": [list(group) for group in self.groups], "score": self.score}


def splits(tasks: Sequence[str], n_groups: int) -> Iterator[tuple[tuple[str, ...], ...]]:
    """Every split of ``tasks`` into exactly ``n_groups`` non-empty groups (order kept within and across groups).

    >>> [groups for groups in splits(["a", "b", "c"], 2)]
    [(('a', 'b'), ('c',)), (('a', 'c'), ('b',)), (('a',), ('b', 'c'))]
    """
    def place(index: int, groups: list[list[str]]) -> Iterator[tuple[tuple[str, ...], ...]]:
        if index == len(tasks):
            if len(groups) == n_groups:
                yield tuple(tuple(group) for group in groups)
            return
        if len(tasks) - index < n_groups - len(groups):
            return
        for group in groups:
            group.append(tasks[index])
            yield from place(index + 1, groups)
            group.pop()
        if len(groups) < n_groups:
            groups.append([tasks[index]])
            yield from place(index + 1, groups)
            groups.pop()

    yield from place(0, [])


def best_grouping(affinity: Affinity, tasks: Sequence[str], n_groups: int) -> Grouping | None:
    """The highest-scoring split of ``tasks`` into ``n_groups`` groups (TAG §3.2); None when there are fewer tasks
    than groups or more than ``MAX_TASKS``."""
    if not 1 <= n_groups <= len(tasks) or len(tasks) > MAX_TASKS:
        return None
    best: Grouping | None = None
    for groups in splits(tasks, n_groups):
        score = sum(score_onto(affinity, group, task) for group in groups for task in group)
        if best is None or score > best.score + 1e-15:
            best = Grouping(groups, score)
    return best


def recommended(affinity: Affinity, tasks: Sequence[str]) -> Grouping | None:
    """For 3 or more tasks: the better of the best split into 2 and into 3 groups (None for fewer tasks)."""
    candidates = [grouping for n in (2, 3) if (grouping := best_grouping(affinity, tasks, n)) is not None]
    if len(tasks) < 3 or not candidates:
        return None
    return max(candidates, key=lambda grouping: grouping.score)


def advice(grouping: Grouping) -> str:
    """Plain advice: ``"Train a and b together, c alone."``.

    >>> advice(Grouping((("a", "b"), ("c",)), 0.1))
    'Train a and b together, c alone.'
    """
    parts = [f"{_listed(group)} together" if len(group) > 1 else f"{group[0]} alone" for group in grouping.groups]
    return "Train " + ", ".join(parts) + "."


def pair_advice(affinity: Affinity, first: str, second: str) -> str:
    """Two tasks: whether each step on one lowered the other's loss on average, and what that suggests."""
    onto_second = float(affinity.get(first, {}).get(second, 0.0))
    onto_first = float(affinity.get(second, {}).get(first, 0.0))
    if onto_second > 0 and onto_first > 0:
        return f"{first} and {second} help each other: train them together."
    if onto_second < 0 and onto_first < 0:
        return f"{first} and {second} hurt each other: consider training them apart."
    giver, taker = (first, second) if onto_second > 0 else (second, first)
    return f"Steps on {giver} lower the loss of {taker}, but not the other way round: mixed transfer."


def _listed(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
