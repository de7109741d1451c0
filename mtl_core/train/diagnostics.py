"""Gradient conflict diagnostics recorded while a run trains (``train.diagnostics = true``).

Per epoch, over the task gradients of the shared parameters g_t = ∇_θs L_t (one row per task of the
Jacobian J, [T, P]):

- cosine similarity of each pair, cos(g_a, g_b) = g_a·g_b / (‖g_a‖ ‖g_b‖), its mean over the measured steps and
  the fraction of those steps where it was negative (the conflicting gradients of Yu et al., 2020, "Gradient
  Surgery for Multi-Task Learning", §3: the tasks pull the shared layers apart);
- each task's gradient norm ‖g_t‖ (mean);
- gradient strategies only: the angle between the update direction d and each g_t, arccos(d·g_t / (‖d‖ ‖g_t‖)) in
  degrees, and the implied task weights w (d = wᵀJ): the strategy's own when it exposes them, else the least-squares
  solution w = (J Jᵀ)⁺ J d;
- the lookahead inter-task affinity of Fifty et al., 2021, "Efficiently Identifying Task Groupings for Multi-Task
  Learning" (TAG, NeurIPS), Eq. 3 (``mtl_core.insight.affinity.lookahead_affinity``);
- what the model exposes about itself (``MTLModel.inspect``: gate weights, cross-stitch units, trunk distances).

Cost: a gradient strategy already computes J, so its cosines, norms, angles and weights are measured at every step
(a [T, T] Gram matrix). A loss-based strategy needs J only for the diagnostics (T extra backward passes), and the
affinity needs T + 1 extra forward passes; both are measured on ``MEASURED_STEPS`` evenly spaced steps per epoch
(every k-th step, k = ⌈steps per epoch / MEASURED_STEPS⌉). Nothing here touches the parameters, their gradients,
the optimiser or any random generator: a run trains to the same numbers with diagnostics on or off.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import partial
from typing import Any

import torch
from torch import Tensor

from mtl_core.data import TaskInfo
from mtl_core.insight.affinity import lookahead_affinity
from mtl_core.models import MTLModel
from mtl_core.train.losses import stacked_losses
from mtl_core.weighting import task_gradients

Batch = tuple[Tensor, dict[str, Tensor], dict[str, Tensor]]  # one batch's features, targets and masks

MEASURED_STEPS = 4  # steps per epoch on which the costly parts (a loss strategy's J, the affinity) are measured
INSPECTED_ROWS = 512  # rows the model's gates are averaged over at the end of each epoch


def pair_key(first: str, second: str) -> str:
    """The key of a pair of tasks in a record: ``"a|b"``, in task order."""
    return f"{first}|{second}"


def cosine_matrix(jacobian: Tensor) -> tuple[Tensor, Tensor]:
    """[T, T] cosine similarity of the rows of ``jacobian`` [T, P] and [T] their norms; a zero row has cosine 0."""
    gram = jacobian.double() @ jacobian.double().T
    norms = gram.diagonal().clamp_min(0).sqrt()
    scale = torch.outer(norms, norms)
    cosines = torch.where(scale > 0, gram / scale.clamp_min(torch.finfo(torch.float64).tiny), 0.0)
    return cosines.clamp(-1.0, 1.0), norms


def angles_to(direction: Tensor, jacobian: Tensor) -> Tensor:
    """[T] angle in degrees between ``direction`` [P] and each row of ``jacobian`` [T, P] (nan for a zero vector)."""
    rows, along = jacobian.double(), direction.double()
    scale = torch.linalg.vector_norm(rows, dim=1) * torch.linalg.vector_norm(along)
    cosines = torch.where(scale > 0, rows @ along / scale.clamp_min(torch.finfo(torch.float64).tiny), math.nan)
    return torch.rad2deg(torch.arccos(cosines.clamp(-1.0, 1.0)))


def least_squares_weights(direction: Tensor, jacobian: Tensor) -> Tensor:
    """[T] weights w with wᵀJ closest to ``direction`` (least squares): w = (J Jᵀ)⁺ J d."""
    rows = jacobian.double()
    return torch.linalg.pinv(rows @ rows.T) @ (rows @ direction.double())


class _Tally:
    """Running sums over one epoch's measured steps, task-indexed [T] or pair-indexed [T, T]."""

    def __init__(self, n_tasks: int) -> None:
        pairs, tasks = (n_tasks, n_tasks), (n_tasks,)
        self.cosine, self.negative, self.pair_steps = (torch.zeros(pairs, dtype=torch.float64) for _ in range(3))
        self.norm, self.norm_steps = torch.zeros(tasks, dtype=torch.float64), torch.zeros(tasks, dtype=torch.float64)
        self.angle, self.angle_steps = torch.zeros(tasks, dtype=torch.float64), torch.zeros(tasks, dtype=torch.float64)
        self.weight, self.weight_steps = torch.zeros(tasks, dtype=torch.float64), 0
        self.affinity, self.affinity_steps = (torch.zeros(pairs, dtype=torch.float64) for _ in range(2))
        self.steps = 0


class Diagnostics:
    """Collects one run's diagnostics, step by step, and hands out one record per epoch (``record``)."""

    def __init__(self, task_names: Sequence[str], gradient_strategy: bool) -> None:
        self.task_names = tuple(task_names)
        self.gradient_strategy = gradient_strategy
        self.space = "parameters"
        self.every, self.lr, self.step_in_epoch = 1, 0.0, 0
        self.tally = _Tally(len(self.task_names))

    def start_epoch(self, steps: int, lr: float) -> None:
        """A new epoch of ``steps`` optimisation steps at learning rate ``lr``: empty sums."""
        self.every = max(1, math.ceil(steps / MEASURED_STEPS))
        self.lr, self.step_in_epoch = lr, 0
        self.tally = _Tally(len(self.task_names))

    def due(self) -> bool:
        """Whether this step is one of the epoch's measured steps (for the costly parts)."""
        return self.step_in_epoch % self.every == 0

    def stepped(self) -> None:
        self.step_in_epoch += 1

    def observe(self, jacobian: Tensor, rows: Sequence[int], direction: Tensor | None = None) -> Tensor | None:
        """Add one step's Jacobian (rows: the run's task of each row); returns the least-squares weights [T] of
        ``direction`` (0 for tasks absent from the step) when a direction is given."""
        tally, index = self.tally, torch.tensor(list(rows), dtype=torch.long)
        cosines, norms = cosine_matrix(jacobian.detach())
        grid = torch.meshgrid(index, index, indexing="ij")
        tally.cosine[grid] += cosines.cpu()
        tally.negative[grid] += (cosines < 0).double().cpu()
        tally.pair_steps[grid] += 1.0
        tally.norm[index] += norms.cpu()
        tally.norm_steps[index] += 1.0
        tally.steps += 1
        if direction is None:
            return None
        angles = angles_to(direction.detach(), jacobian.detach()).cpu()
        finite = angles.isfinite()
        tally.angle[index[finite]] += angles[finite]
        tally.angle_steps[index[finite]] += 1.0
        weights = torch.zeros(len(self.task_names), dtype=torch.float64)
        weights[index] = least_squares_weights(direction.detach(), jacobian.detach()).cpu()
        return weights

    def observe_weights(self, weights: Tensor) -> None:
        """The task weights the strategy used at this step (its own, or the least-squares ones), [T]."""
        self.tally.weight += weights.detach().double().cpu()
        self.tally.weight_steps += 1

    def observe_affinity(self, losses_at: Callable[[Mapping[str, Tensor]], Tensor], shared: Mapping[str, Tensor],
                         jacobian: Tensor, rows: Sequence[int]) -> None:
        """Add one step's lookahead affinities (TAG, Eq. 3) of the tasks in ``rows`` onto every task."""
        affinity, measured = lookahead_affinity(losses_at, shared, jacobian.detach(), rows, self.lr)
        self.tally.affinity += torch.where(measured, affinity.double().cpu(), 0.0)
        self.tally.affinity_steps += measured.double()

    def record(self, epoch: int, model: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The epoch's plain record: ``{"epoch", "steps", "cosine", "negative_fraction", "norms", "angles",
        "implied_weights", "affinity", "model"}`` (keys without a measurement are left out)."""
        tally, names = self.tally, self.task_names
        record: dict[str, Any] = {"epoch": epoch, "steps": tally.steps, "space": self.space}
        pairs = [(a, b) for a in range(len(names)) for b in range(a + 1, len(names)) if tally.pair_steps[a, b] > 0]
        record["cosine"] = {pair_key(names[a], names[b]): float(tally.cosine[a, b] / tally.pair_steps[a, b])
                            for a, b in pairs}
        record["negative_fraction"] = {pair_key(names[a], names[b]):
                                       float(tally.negative[a, b] / tally.pair_steps[a, b]) for a, b in pairs}
        record["norms"] = _means(names, tally.norm, tally.norm_steps)
        if self.gradient_strategy:
            record["angles"] = _means(names, tally.angle, tally.angle_steps)
            if tally.weight_steps:
                record["implied_weights"] = _means(names, tally.weight, torch.full_like(tally.weight,
                                                                                         tally.weight_steps))
        if bool((tally.affinity_steps > 0).any()):
            record["affinity"] = {names[i]: {names[j]: float(tally.affinity[i, j] / tally.affinity_steps[i, j])
                                             for j in range(len(names)) if tally.affinity_steps[i, j] > 0}
                                  for i in range(len(names)) if bool((tally.affinity_steps[i] > 0).any())}
            record["affinity_steps"] = int(tally.affinity_steps.max())
        if model:
            record["model"] = dict(model)
        return record


class Recorder:
    """The trainer's side of the diagnostics of one run: it measures a step from the step's own losses, Jacobian and
    direction, and makes each epoch's record with what the model shows of itself (``MTLModel.inspect``).

    ``space``: where a gradient strategy's Jacobian is taken; in the representation space the step's graph is freed
    before the affinity could use it, so none is measured. ``log_losses``: the Jacobian's rows are ∇ log L_t (DB-MTL).
    """

    def __init__(self, model: MTLModel, shared: Sequence[Tensor], info: Mapping[str, TaskInfo],
                 gradient_strategy: bool, space: str = "parameters", log_losses: bool = False) -> None:
        self.model, self.shared, self.info = model, list(shared), info
        names = {id(parameter): name for name, parameter in model.named_parameters()}
        self.shared_named = {names[id(parameter)]: parameter for parameter in self.shared}  # the Jacobian's order
        self.diagnostics = Diagnostics(tuple(info), gradient_strategy)
        self.diagnostics.space, self.log_losses = space, log_losses
        self.least_squares_: Tensor | None = None  # the last gradient step's least-squares task weights

    def start_epoch(self, steps: int, lr: float) -> None:
        self.diagnostics.start_epoch(steps, lr)

    def loss_step(self, losses: Tensor, present: Sequence[bool], batch: Batch) -> None:
        """A loss-based step, on the epoch's measured steps: the task gradients of the shared parameters (T extra
        backward passes; the graph is kept for the step's own) and the lookahead affinity."""
        rows = [task for task, labelled in enumerate(present) if labelled]
        if rows and self.shared and self.diagnostics.due():
            jacobian = task_gradients(losses[rows], self.shared)  # [len(rows), P]
            self.diagnostics.observe(jacobian, rows)
            self._affinity(batch, jacobian, rows)

    def gradient_step(self, losses: Tensor, batch: Batch, jacobian: Tensor, rows: list[int],
                      direction: Tensor) -> None:
        """A gradient step, from the Jacobian and direction it computed (every step); the affinity on the measured
        steps."""
        self.least_squares_ = self.diagnostics.observe(jacobian, rows, direction)
        if self.diagnostics.space == "representation" or not self.shared or not self.diagnostics.due():
            return
        if self.log_losses:  # DB-MTL's rows are ∇L_t / L_t: back to ∇L_t
            jacobian = jacobian * losses.detach()[rows, None]
        self._affinity(batch, jacobian, rows)

    def weights_used(self, weights: Tensor | None) -> Tensor | None:
        """A gradient step's task weights: the method's own, else the least-squares ones; recorded either way."""
        chosen = self.least_squares_ if weights is None else weights
        self.least_squares_ = None
        if chosen is not None:
            self.diagnostics.observe_weights(chosen)
        return chosen

    def stepped(self) -> None:
        self.diagnostics.stepped()

    def record(self, epoch: int, features: Tensor) -> dict[str, Any]:
        """The epoch's record, with what the model shows of itself on ``features`` (at most ``INSPECTED_ROWS``)."""
        with evaluating(self.model), torch.no_grad():
            shown = self.model.inspect(features[:INSPECTED_ROWS])
        return self.diagnostics.record(epoch, shown)

    def _affinity(self, batch: Batch, jacobian: Tensor, rows: Sequence[int]) -> None:
        with evaluating(self.model):
            self.diagnostics.observe_affinity(partial(self._losses_at, batch), self.shared_named, jacobian, rows)

    def _losses_at(self, batch: Batch, replaced: Mapping[str, Tensor]) -> Tensor:
        """The batch's task losses [T] with the named shared parameters holding other values for one forward pass
        (the caller puts the model in evaluation mode: no dropout draw, no batch-norm statistics update).

        The values are written into the parameters' storage and the saved bits copied back before returning, through
        ``.data`` so that autograd's version counters (the step's graph is still to be differentiated) see nothing.
        """
        features, targets, masks = batch
        saved = [(self.shared_named[name].data, value) for name, value in replaced.items()]
        kept = [storage.clone() for storage, _ in saved]
        try:
            with torch.no_grad():
                for storage, value in saved:
                    storage.copy_(value)
                return stacked_losses(self.model(features), targets, masks, dict(self.info))
        finally:
            for (storage, _), bits in zip(saved, kept, strict=True):
                storage.copy_(bits)


@contextmanager
def evaluating(model: torch.nn.Module) -> Iterator[None]:
    """The model in evaluation mode while the block runs, then back in the mode it was in."""
    was_training = model.training
    model.eval()
    try:
        yield
    finally:
        model.train(was_training)


def _means(names: Sequence[str], sums: Tensor, counts: Tensor) -> dict[str, float]:
    return {name: float(sums[t] / counts[t]) for t, name in enumerate(names) if counts[t] > 0}
