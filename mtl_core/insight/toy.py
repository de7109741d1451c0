"""The toy landscape of Liu et al., 2021, "Conflict-Averse Gradient Descent for Multi-task Learning" (CAGrad,
NeurIPS), §5 and Figure 1, and a race of weighting strategies across it.

Two losses of x = (x1, x2) ∈ ℝ², as the authors' ``toy.py`` writes them (LOWER = 5e-6):

    f1 = log(max(|0.5(−x1−7) − tanh(−x2)|, LOWER)) + 6,   f2 = log(max(|0.5(−x1+3) + tanh(−x2) + 2|, LOWER)) + 6,
    g1 = ((−x1+7)² + 0.1(−x2−8)²)/10 − 20,               g2 = ((−x1−7)² + 0.1(−x2−8)²)/10 − 20,
    c1 = max(tanh(0.5 x2), 0),  c2 = max(tanh(−0.5 x2), 0),  L1 = f1 c1 + g1 c2,  L2 = f2 c1 + g2 c2.

The Pareto set is close to the segment x2 = −8.3552, x1 ∈ [−7, 7], and (L1 + L2)/2 is smallest at its middle,
(0, −8.3552). The paper runs Adam (lr 1e-3, 100 000 steps) from (−8.5, 7.5), (−8.5, −5) and (9, 9); with
c = 0.5 only CAGrad reaches the middle of the front from every start. Nash-MTL (Navon et al., 2022, §6.1)
and FAMO (Liu et al., 2023, §5.1) reuse the landscape.

``race`` treats x as the shared parameters of a run. At each step the two task gradients (the Jacobian,
[2, 2]) go through the strategy as in training: a gradient strategy's ``aggregate`` (through its
``__call__``, with ``rows``; state kept across steps), or a loss strategy's ``combine`` on the current
losses, whose derivative ∂total/∂L_t weighs each task's gradient. The direction is then x's gradient for
``torch.optim.Adam``. Loss strategies read the losses shifted by +21, as FAMO's toy does
(``set_min_losses(−21)``): the landscape goes down to −20, and logarithms and ratios of losses need them
positive. The shift moves no gradient.
"""

from __future__ import annotations

import math
import multiprocessing
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal, TypeAlias

import torch
from torch import Tensor

from mtl_core.errors import ConfigError
from mtl_core.weighting import STRATEGIES, GradientStrategy, LossWeighting, StepContext, Strategy, available, create

Point: TypeAlias = tuple[float, float]  # (x1, x2)

LOWER = 5e-6  # the floor inside f1's and f2's logarithm
PAPER_STARTS: tuple[Point, ...] = ((-8.5, 7.5), (-8.5, -5.0), (9.0, 9.0))
PARETO_X2 = -8.3552  # the height at which the authors' plotting code draws the Pareto set
PARETO_X1 = (-7.0, 7.0)  # its ends: the minima of L1 (x1 = 7) and of L2 (x1 = −7)
PARETO_MIDDLE: Point = (0.0, PARETO_X2)  # the minimum of (L1 + L2)/2, −15.0916
STEPS, LR, POINTS = 100_000, 1e-3, 500
TOY_HPARAMS: dict[str, dict[str, Any]] = {"cagrad": {"c": 0.5}}  # the paper's toy (its benchmarks use 0.4)
LOSS_SHIFT = 21.0  # FAMO's toy: every loss stays above −21, so L + 21 > 0
EPOCH_STEPS = 100  # one toy epoch, for strategies that read epoch means (DWA, STCH)
TASKS = ("L1", "L2")
ROWS = (0, 1)  # both tasks are present at every step
UNSUPPORTED = {
    "gradnorm": "GradNorm balances the gradient norms at a network's last shared layer; the toy's shared "
                "parameters are one point, with no layers",
    "grad_ratio": "its penalty differentiates the norms of the task gradients (second derivatives of the "
                  "losses), which the toy's race does not compute",
}


@dataclass(frozen=True, slots=True)
class Trajectory:
    """One run from one start: the thinned path, with the start first and the end last."""

    start: Point
    end: Point
    points: tuple[Point, ...]
    steps: tuple[int, ...]  # the optimisation steps done at each point (0: the start)
    stopped: str | None = None  # why the run ended before its last step (a non-finite update), else None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON: start, end, trajectory ([[x1, x2], ...]), steps, and stopped when set."""
        shown: dict[str, Any] = {"start": list(self.start), "end": list(self.end),
                                 "trajectory": [list(point) for point in self.points], "steps": list(self.steps)}
        if self.stopped is not None:
            shown["stopped"] = self.stopped
        return shown


def toy_losses(x: Tensor) -> Tensor:  # [..., 2] -> [..., 2]
    """(L1, L2) at x, differentiable, written as in the authors' code (torch.clamp at LOWER and at 0)."""
    x1, x2 = x[..., 0], x[..., 1]
    f1 = torch.clamp((0.5 * (-x1 - 7) - torch.tanh(-x2)).abs(), LOWER).log() + 6
    f2 = torch.clamp((0.5 * (-x1 + 3) + torch.tanh(-x2) + 2).abs(), LOWER).log() + 6
    g1 = ((-x1 + 7).pow(2) + 0.1 * (-x2 - 8).pow(2)) / 10 - 20
    g2 = ((-x1 - 7).pow(2) + 0.1 * (-x2 - 8).pow(2)) / 10 - 20
    c1 = torch.clamp(torch.tanh(0.5 * x2), 0)
    c2 = torch.clamp(torch.tanh(-0.5 * x2), 0)
    return torch.stack([f1 * c1 + g1 * c2, f2 * c1 + g2 * c2], dim=-1)


def toy_jacobian(points: Tensor) -> tuple[Tensor, Tensor]:  # [S, 2] -> [S, 2], [S, 2 tasks, 2 coordinates]
    """The losses and their exact gradients at each point, in closed form, float64.

    Plain floats: for a few points, one autograd pass (or fifty tensor operations) costs ten times more.
    """
    values = [_losses_and_gradients(x1, x2) for x1, x2 in points.tolist()]
    losses = torch.tensor([value[:2] for value in values], dtype=torch.float64)
    return losses, torch.tensor([[value[2:4], value[4:]] for value in values], dtype=torch.float64)


def _losses_and_gradients(x1: float, x2: float) -> tuple[float, float, float, float, float, float]:
    """L1, L2, ∂L1/∂x1, ∂L1/∂x2, ∂L2/∂x1, ∂L2/∂x2 at one point (the gradient torch's autograd gives)."""
    tanh = math.tanh(x2)
    f1, df1_dx1, df1_dx2 = _log_part(-0.5 * x1 - 3.5 + tanh, 1 - tanh * tanh)  # 0.5(−x1−7) − tanh(−x2)
    f2, df2_dx1, df2_dx2 = _log_part(-0.5 * x1 + 3.5 - tanh, tanh * tanh - 1)  # 0.5(−x1+3) + tanh(−x2) + 2
    depth = 0.1 * (x2 + 8) ** 2
    g1, g2 = ((x1 - 7) ** 2 + depth) / 10 - 20, ((x1 + 7) ** 2 + depth) / 10 - 20
    dg_dx2 = 0.02 * (x2 + 8)
    half = math.tanh(0.5 * x2)
    c1, c2 = max(half, 0.0), max(-half, 0.0)
    dc = 0.5 * (1 - half * half)
    dc1, dc2 = (dc if half >= 0 else 0.0), (-dc if half <= 0 else 0.0)  # torch.clamp passes the gradient at 0
    return (f1 * c1 + g1 * c2, f2 * c1 + g2 * c2,
            c1 * df1_dx1 + c2 * (x1 - 7) / 5, c1 * df1_dx2 + f1 * dc1 + c2 * dg_dx2 + g1 * dc2,
            c1 * df2_dx1 + c2 * (x1 + 7) / 5, c1 * df2_dx2 + f2 * dc1 + c2 * dg_dx2 + g2 * dc2)


def _log_part(inner: float, dinner_dx2: float) -> tuple[float, float, float]:
    """f = log(max(|u|, LOWER)) + 6 and ∂f/∂x1, ∂f/∂x2 (∂u/∂x1 = −0.5); 0 below the floor, as torch.clamp."""
    if abs(inner) < LOWER:
        return math.log(LOWER) + 6, 0.0, 0.0
    return math.log(abs(inner)) + 6, -0.5 / inner, dinner_dx2 / inner


def distance_to_middle(point: Sequence[float]) -> float:
    """Euclidean distance from ``point`` to the middle of the Pareto set, (0, −8.3552)."""
    return math.hypot(point[0] - PARETO_MIDDLE[0], point[1] - PARETO_MIDDLE[1])


def distance_to_pareto_set(point: Sequence[float]) -> float:
    """Euclidean distance from ``point`` to the segment x2 = −8.3552, x1 ∈ [−7, 7]."""
    beyond = max(PARETO_X1[0] - point[0], point[0] - PARETO_X1[1], 0.0)
    return math.hypot(beyond, point[1] - PARETO_X2)


def end_rows(result: Mapping[str, Sequence[Trajectory]]) -> list[dict[str, Any]]:
    """One row per strategy and start: where it started and ended, and how far that is from the Pareto set."""
    return [{"strategy": name, "start": f"({run.start[0]:g}, {run.start[1]:g})", "end x1": run.end[0],
             "end x2": run.end[1], "to the middle": distance_to_middle(run.end),
             "to the Pareto set": distance_to_pareto_set(run.end), "steps": run.steps[-1]}
            for name, runs in result.items() for run in runs]


def landscape(size: int = 121, limit: float = 10.0) -> dict[str, Any]:
    """L1, L2 and their mean on a ``size`` × ``size`` grid of [−limit, limit]², with the Pareto set, as plain lists.

    ``z[i][j]`` is the value at (x1[j], x2[i]), the layout of a plotly contour.
    """
    axis = torch.linspace(-limit, limit, size, dtype=torch.float64)
    grid = torch.stack(torch.meshgrid(axis, axis, indexing="xy"), dim=-1)  # [size, size, 2]: (x1[j], x2[i])
    values = toy_losses(grid)
    return {"x1": axis.tolist(), "x2": axis.tolist(), "L1": values[..., 0].tolist(), "L2": values[..., 1].tolist(),
            "mean": values.mean(dim=-1).tolist(), "pareto": [[PARETO_X1[0], PARETO_X2], [PARETO_X1[1], PARETO_X2]],
            "middle": list(PARETO_MIDDLE)}


def toy_support(name: str) -> str | None:
    """Why the toy cannot run strategy ``name`` (None when it can); UnknownNameError for an unknown name."""
    STRATEGIES.get(name, key="strategy.name")
    return UNSUPPORTED.get(name)


def toy_strategies(kind: Literal["loss", "gradient"] | None = None) -> list[str]:
    """The registered strategies the toy can run (``kind``: loss-based or gradient-based ones only), sorted."""
    return [name for name in available(kind) if name not in UNSUPPORTED]


def race(strategies: Sequence[str] | Mapping[str, Mapping[str, Any]], starts: Sequence[Sequence[float]] = PAPER_STARTS,
         steps: int = STEPS, lr: float = LR, thin: int = POINTS, workers: int = 1) -> dict[str, list[Trajectory]]:
    """Each strategy's trajectory from each start: ``steps`` Adam steps (lr ``lr``), thinned to ≤ ``thin`` points.

    ``strategies`` names them, or maps each name to its hyper-parameters, given over the toy's defaults
    (``TOY_HPARAMS``: CAGrad with c = 0.5, the paper's setting). A fresh strategy per start, as a new run.
    ``workers`` > 1 runs each (strategy, start) in its own process, that many at a time, with the same
    numbers: every start's run is its own either way. Raises ConfigError (UnknownNameError for a name)
    before anything runs.
    """
    chosen = dict(strategies) if isinstance(strategies, Mapping) else {name: {} for name in strategies}
    points = _checked(chosen, starts, steps, lr, thin)
    settings = {name: {**TOY_HPARAMS.get(name, {}), **hparams} for name, hparams in chosen.items()}
    for name, hparams in settings.items():  # every setting checked before the first (long) run
        create(name, **hparams)
    if workers > 1:
        return _in_processes(settings, points, partial(_run_one, steps=steps, lr=lr, thin=thin), workers)
    return {name: _run(name, hparams, points, steps, lr, thin) for name, hparams in settings.items()}


def _in_processes(settings: Mapping[str, Mapping[str, Any]], points: list[Point],
                  run_one: Callable[[tuple[str, Mapping[str, Any], Point]], Trajectory],
                  workers: int) -> dict[str, list[Trajectory]]:
    """One job per (strategy, start) in a pool of ``workers`` fresh processes (spawned: no state is inherited)."""
    jobs = [(name, hparams, point) for name, hparams in settings.items() for point in points]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(min(workers, len(jobs)), mp_context=context) as pool:
        done = list(pool.map(run_one, jobs))
    result: dict[str, list[Trajectory]] = {name: [] for name in settings}
    for (name, _, _), trajectory in zip(jobs, done, strict=True):
        result[name].append(trajectory)
    return result


def _run_one(job: tuple[str, Mapping[str, Any], Point], steps: int, lr: float, thin: int) -> Trajectory:
    name, hparams, point = job
    return _run(name, hparams, [point], steps, lr, thin)[0]


def _checked(chosen: Mapping[str, Mapping[str, Any]], starts: Sequence[Sequence[float]], steps: int, lr: float,
             thin: int) -> list[Point]:
    """The starts as points, once the settings are checked; ConfigError naming the first bad one."""
    for name, hparams in chosen.items():
        reason = toy_support(name)
        if reason is not None:
            raise ConfigError(f"strategy {name!r} cannot run on the toy: {reason}. Choose another strategy.")
        if hparams.get("space", "parameters") != "parameters":
            raise ConfigError(f"strategy.space = {hparams['space']!r}: the toy has no shared representation, only "
                              "its two parameters; use space = 'parameters'")
    if steps < 0 or not lr > 0 or not math.isfinite(lr) or thin < 2:
        raise ConfigError(f"toy: steps = {steps}, lr = {lr}, points = {thin}; expected steps ≥ 0, a finite lr > 0 "
                          "and at least 2 points kept per trajectory")
    points = [(float(start[0]), float(start[1])) for start in starts]
    if not points or any(len(start) != 2 or not all(map(math.isfinite, start)) for start in starts):
        raise ConfigError(f"toy: starts = {[list(start) for start in starts]}; expected one or more finite points "
                          "(x1, x2)")
    return points


def _run(name: str, hparams: Mapping[str, Any], starts: list[Point], steps: int, lr: float,
         thin: int) -> list[Trajectory]:
    """One strategy from every start at once (one fresh strategy per start; Adam acts coordinate by coordinate)."""
    runs = [create(name, **hparams) for _ in starts]
    for run in runs:
        run.check_tasks(TASKS)
    x = torch.tensor(starts, dtype=torch.float64, requires_grad=True)  # [S, 2]
    learned = [tensor for run in runs for tensor in run.parameters()]
    groups: list[dict[str, Any]] = [{"params": [x]}, *([{"params": learned}] if learned else [])]
    optimizer = torch.optim.Adam(groups, lr=lr)
    stepper = _Gradients(runs) if runs[0].kind == "gradient" else _LossWeights(runs)
    recorder = _Recorder(starts, steps, thin)
    for step in range(steps):
        optimizer.zero_grad(set_to_none=True)
        losses, jacobian = toy_jacobian(x.detach())
        x.grad = recorder.finite(stepper.direction(losses, jacobian, step), step, x.detach())
        optimizer.step()
        for run in runs:
            run.after_step()
        recorder.record(step + 1, x.detach())
    return recorder.trajectories()


class _Gradients:
    """Gradient strategies: each start's Jacobian through its strategy's ``__call__``, as the trainer does."""

    def __init__(self, runs: Sequence[Strategy]) -> None:
        self.runs = [run for run in runs if isinstance(run, GradientStrategy)]
        assert len(self.runs) == len(runs)
        self.log_losses = bool(getattr(runs[0], "log_losses", False))  # DB-MTL's rows: ∇ log L_t = ∇L_t / L_t

    def direction(self, losses: Tensor, jacobian: Tensor, step: int) -> Tensor:  # [S, 2], [S, 2, 2] -> [S, 2]
        if self.log_losses:
            jacobian = jacobian / (losses + LOSS_SHIFT).unsqueeze(-1)
        return torch.stack([run(jacobian[index], rows=ROWS) for index, run in enumerate(self.runs)])


class _LossWeights:
    """Loss strategies: each start's ``combine`` on its shifted losses; ∂total/∂L weighs the task gradients."""

    def __init__(self, runs: Sequence[Strategy]) -> None:
        self.runs = [run for run in runs if isinstance(run, LossWeighting)]
        assert len(self.runs) == len(runs)
        self.initial: list[tuple[float, ...]] | None = None
        self.history: list[tuple[tuple[float, ...], ...]] = [() for _ in runs]  # epoch means per start
        self.sums = torch.zeros(len(runs), len(TASKS), dtype=torch.float64)
        self.plain = type(self.runs[0]).combine is LossWeighting.combine and not self.runs[0].parameters()

    def direction(self, losses: Tensor, jacobian: Tensor, step: int) -> Tensor:
        shifted = losses + LOSS_SHIFT  # [S, 2]
        if self.initial is None:
            self.initial = [tuple(row) for row in shifted.tolist()]
        rows = [self.slopes(run, shifted[index], step, index) @ jacobian[index] for index, run in enumerate(self.runs)]
        self.tally(shifted, step)
        return torch.stack(rows)

    def slopes(self, run: LossWeighting, losses: Tensor, step: int, index: int) -> Tensor:  # [2]
        """∂total/∂L_t; the backward also fills the gradients of the strategy's own learned tensors.

        A strategy whose total is Σ_t w_t L_t with weights that learn nothing has ∂total/∂L = w: no backward.
        """
        assert self.initial is not None
        context = StepContext(step // EPOCH_STEPS + 1, step, TASKS, self.history[index], self.initial[index])
        if self.plain:
            return run.weights(losses, context).detach()
        leaf = losses.clone().requires_grad_(True)
        total, _ = run.combine(leaf, context)
        if total.requires_grad:
            total.backward()
        return leaf.grad if leaf.grad is not None else torch.zeros_like(losses)

    def tally(self, shifted: Tensor, step: int) -> None:
        """Add the step's losses to the epoch's sums; at the epoch's end, append their means to each history."""
        self.sums += shifted
        if (step + 1) % EPOCH_STEPS == 0:
            means = (self.sums / EPOCH_STEPS).tolist()
            self.history = [(*history, tuple(row)) for history, row in zip(self.history, means, strict=True)]
            self.sums.zero_()


class _Recorder:
    """Keeps each start's position at ≤ ``thin`` evenly spaced steps, the start and the end included."""

    def __init__(self, starts: list[Point], steps: int, thin: int) -> None:
        self.marks = {round(index * steps / (thin - 1)) for index in range(thin)}
        self.paths: list[list[Point]] = [[start] for start in starts]
        self.steps: list[list[int]] = [[0] for _ in starts]
        self.stopped: list[str | None] = [None for _ in starts]
        self.total = steps

    def finite(self, direction: Tensor, step: int, x: Tensor) -> Tensor:
        """The direction with a non-finite row set to 0; that start ends at ``x`` (recorded as ``stopped``)."""
        bad = ~direction.isfinite().all(dim=1)
        if not bool(bad.any()):
            return direction
        for index in bad.nonzero().flatten().tolist():
            if self.stopped[index] is None:
                self.stopped[index] = f"the update became non-finite at step {step + 1}"
                self.record_one(index, step, (float(x[index, 0]), float(x[index, 1])), force=True)
        return torch.where(bad.unsqueeze(1), 0.0, direction)

    def record(self, step: int, x: Tensor) -> None:
        if step in self.marks or step == self.total:
            for index, point in enumerate(x.tolist()):
                self.record_one(index, step, (point[0], point[1]))

    def record_one(self, index: int, step: int, point: Point, force: bool = False) -> None:
        if self.stopped[index] is None or force:
            if self.steps[index][-1] != step:
                self.paths[index].append(point)
                self.steps[index].append(step)

    def trajectories(self) -> list[Trajectory]:
        return [Trajectory(path[0], path[-1], tuple(path), tuple(steps), stopped)
                for path, steps, stopped in zip(self.paths, self.steps, self.stopped, strict=True)]
