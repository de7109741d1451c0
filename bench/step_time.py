"""Step time of every registered weighting strategy as a ratio to a plain summed-loss step: ``python -m bench.step_time``.

The set-up is fixed: T regression tasks on an MLP trunk 32→256→256 (hard parameter sharing, one linear
head per task), batch 256, Adam, ``torch.set_num_threads(1)``. A step is the trainer's own step (the
functions of ``mtl_core.train.step`` between ``zero_grad`` and ``optimizer.step``, with the same
StepContext the trainer builds). Baseline and method steps alternate on the same batches in the same
process, after a warm-up, and the ratio is median(method) / median(baseline), each step timed in the CPU
time of its thread (``time.thread_time``), which other processes on a busy machine do not inflate.
Gradient-based methods are timed in both spaces of their ``space`` hyper-parameter: rows w.r.t. the shared parameters, or w.r.t. the
shared representation (one backward through the trunk), with the trainer's Jacobian mode (``per_task``;
``--modes`` adds ``batched``).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import torch
from torch import Tensor

from mtl_core.config import ModelConfig, TrainConfig
from mtl_core.errors import MTLError
from mtl_core.data.dataset import TaskInfo
from mtl_core.models import build_model
from mtl_core.models.layers import initialize
from mtl_core.train.losses import stacked_losses
from mtl_core.train.optim import make_optimizer
from mtl_core.train.step import gradient_based_grads, loss_based_grads
from mtl_core.weighting import GradientStrategy, LossWeighting, StepContext, Strategy, available, create, gradient_norms
from bench.report import write_section

IN_FEATURES, HIDDEN, BATCH = 32, (256, 256), 256
BASELINE = "equal"  # Σ_t L_t through the trainer's loss-based path: the plain summed-loss step
TARGETS = {"pcgrad": 2.5, "imtl_g": 2.5, "upgrad": 2.5, "mgda": 3.0, "cagrad": 3.0, "nash_mtl": 3.0}
LOSS_TARGET = 1.1
REPRESENTATION_TARGETS = {3: 1.6, 10: 2.0}  # every gradient method in the representation space, by T
SPACES = ("parameters", "representation")
SECTION = "## Weighting step time"
Batch = tuple[Tensor, dict[str, Tensor], dict[str, Tensor]]


@dataclass
class Setup:
    """One model, its optimiser and one strategy, stepped exactly as the trainer steps them."""

    strategy: Strategy
    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    info: dict[str, TaskInfo]
    mode: str = "per_task"
    space: str = "parameters"
    steps: int = 0
    initial_losses: tuple[float, ...] | None = None
    shared: list[Tensor] = field(default_factory=list)
    heads: list[Tensor] = field(default_factory=list)


def make_setup(name: str, n_tasks: int, mode: str = "per_task", seed: int = 0, space: str = "parameters") -> Setup:
    """A fresh model (same initial weights for every strategy) with the strategy ``name`` at its defaults
    (and ``space`` for a gradient-based one)."""
    info = {f"task_{index}": TaskInfo(f"task_{index}", "regression", "mse", 1, ()) for index in range(n_tasks)}
    model = build_model(ModelConfig(architecture="hps", hidden=HIDDEN), IN_FEATURES, {name: 1 for name in info})
    initialize(model, torch.Generator().manual_seed(seed))
    strategy = create(name, space=space) if create(name).kind == "gradient" else create(name)
    strategy.check_tasks(tuple(info))
    optimizer = make_optimizer(TrainConfig(lr=1e-3), model.parameters(), strategy.parameters())
    return Setup(strategy, model, optimizer, info, mode, space, shared=list(model.shared_parameters()),
                 heads=list(model.task_parameters()))


def make_batches(n_tasks: int, count: int = 4, seed: int = 0) -> list[Batch]:
    """Fixed random batches: features [B, 32] and one standardised regression target per task."""
    generator = torch.Generator().manual_seed(seed)
    batches = []
    for _ in range(count):
        features = torch.randn(BATCH, IN_FEATURES, generator=generator)
        targets = {f"task_{index}": torch.randn(BATCH, generator=generator) for index in range(n_tasks)}
        masks = {name: torch.ones(BATCH, dtype=torch.bool) for name in targets}
        batches.append((features, targets, masks))
    return batches


def train_step(setup: Setup, batch: Batch) -> None:
    """One optimisation step, as ``Trainer._train_epoch`` + ``Trainer._step`` do it."""
    features, targets, masks = batch
    strategy, model = setup.strategy, setup.model
    in_representation = getattr(strategy, "space", "parameters") == "representation"
    representation = model.encode(features) if in_representation else None  # type: ignore[operator]
    outputs = model(features) if representation is None else model.decode(representation)  # type: ignore[operator]
    losses = stacked_losses(outputs, targets, masks, setup.info)
    values = losses.detach().cpu().tolist()  # the trainer's finite check and epoch tally read them too
    setup.initial_losses = setup.initial_losses or tuple(values)
    present = tuple(bool(masks[name].any()) for name in setup.info)
    setup.optimizer.zero_grad(set_to_none=True)
    if isinstance(strategy, LossWeighting):
        loss_based_grads(strategy, losses, context(setup, losses, present))
    else:
        assert isinstance(strategy, GradientStrategy)
        gradient_based_grads(strategy, losses, present, setup.shared, setup.heads, representation, setup.mode)
    setup.optimizer.step()
    strategy.after_step()
    setup.steps += 1


def context(setup: Setup, losses: Tensor, present: tuple[bool, ...]) -> StepContext:
    """The StepContext ``Trainer._context`` builds (grad norms only when the strategy asks for them)."""
    last_layer = shared = None
    if setup.strategy.grad_norms == "last_layer":
        last_layer = gradient_norms(losses, setup.model.last_shared_layer()).detach()  # type: ignore[operator]
    if setup.strategy.grad_norms == "shared":
        shared = partial(gradient_norms, losses, setup.shared, True)
    return StepContext(1, setup.steps, tuple(setup.info), (), setup.initial_losses, last_layer, present, shared)


def ratio(name: str, n_tasks: int, mode: str, warmup: int, repeats: int, space: str = "parameters") -> float:
    """median(step time of ``name``) / median(step time of the summed-loss step), steps interleaved."""
    batches = make_batches(n_tasks)
    baseline, method = make_setup(BASELINE, n_tasks), make_setup(name, n_tasks, mode, space=space)
    for index in range(warmup):
        train_step(baseline, batches[index % len(batches)])
        train_step(method, batches[index % len(batches)])
    base_times: list[float] = []
    method_times: list[float] = []
    for index in range(repeats):
        batch = batches[index % len(batches)]
        order = [(baseline, base_times), (method, method_times)]
        for setup, times in order if index % 2 == 0 else order[::-1]:  # alternate who goes first
            start = time.thread_time()  # CPU time of this thread: other work on the machine does not count
            train_step(setup, batch)
            times.append(time.thread_time() - start)
    return statistics.median(method_times) / statistics.median(base_times)


def measure(names: Sequence[str], tasks: Sequence[int], warmup: int, repeats: int,
            modes: Sequence[str] = ("per_task",)) -> list[dict[str, object]]:
    """One row per (strategy, Jacobian mode): the ratio in each space at each task count, or the error raised."""
    rows: list[dict[str, object]] = []
    for name in names:
        kind = create(name).kind
        for mode in (modes if kind == "gradient" else ["—"]):
            row: dict[str, object] = {"name": name, "kind": kind, "mode": mode}
            for space in (SPACES if kind == "gradient" else SPACES[:1]):
                for n_tasks in tasks:
                    row[column(space, n_tasks)] = _ratio_or_error(name, n_tasks, mode, warmup, repeats, space)
            rows.append(row)
            print(row, flush=True)
    return rows


def column(space: str, n_tasks: int) -> str:
    return f"{space} T={n_tasks}"


def _ratio_or_error(name: str, n_tasks: int, mode: str, warmup: int, repeats: int, space: str) -> float | str:
    try:
        return ratio(name, n_tasks, "per_task" if mode == "—" else mode, warmup, repeats, space)
    except MTLError as error:  # e.g. a method that refuses the representation space
        return "refused"
    except Exception as error:  # a method that cannot run here is reported, not fatal
        return f"error: {type(error).__name__}"


def target_of(name: str, kind: str) -> float | None:
    return LOSS_TARGET if kind == "loss" else TARGETS.get(name)


def table(rows: list[dict[str, object]], tasks: Sequence[int]) -> str:
    """Markdown: ratios to the summed-loss step in each space, and whether the targets are met."""
    columns = [column(space, n) for space in SPACES for n in tasks]
    lines = ["| strategy | kind | Jacobian mode | " + " | ".join(columns) + " | targets |",
             "|---|---|---|" + "---:|" * len(columns) + "---|"]
    for row in rows:
        cells = [f"{row[c]:.2f}×" if isinstance(row.get(c), float) else str(row.get(c, "—")) for c in columns]
        lines.append(f"| {row['name']} | {row['kind']} | {row['mode']} | " + " | ".join(cells)
                     + f" | {verdict(row, tasks)} |")
    return "\n".join(lines)


def verdict(row: dict[str, object], tasks: Sequence[int]) -> str:
    """The targets this row is held to (trainer's mode only) and whether they are met."""
    if row["mode"] not in ("per_task", "—"):
        return "—"
    checks: list[tuple[str, float, object]] = []
    target = target_of(str(row["name"]), str(row["kind"]))
    if target is not None:
        checks.append((column("parameters", 3), target, row.get(column("parameters", 3))))
    if row["kind"] == "gradient":
        checks += [(column("representation", n), limit, row.get(column("representation", n)))
                   for n, limit in REPRESENTATION_TARGETS.items() if n in tasks]
    parts = []
    for name, limit, value in checks:
        if isinstance(value, float):
            parts.append(f"{name} ≤ {limit}×: " + ("met" if value <= limit else "not met"))
    return "; ".join(parts) or "—"


def machine() -> str:
    """CPU model, torch version and thread count."""
    model = platform.processor() or "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{model}; torch {torch.__version__}; {torch.get_num_threads()} thread(s); Python {platform.python_version()}"


def section(rows: list[dict[str, object]], tasks: Sequence[int], warmup: int, repeats: int) -> str:
    return "\n".join([
        SECTION, "",
        "Step time of each registered strategy divided by the step time of a plain summed-loss step "
        f"(Σ_t L_t), same model and batches, same process: T regression tasks (T = {', '.join(map(str, tasks))}), "
        f"MLP trunk {IN_FEATURES}→{HIDDEN[0]}→{HIDDEN[1]} with one linear head per task, batch {BATCH}, Adam, "
        f"{warmup} warm-up steps, then the median of {repeats} steps of each, baseline and method interleaved, "
        "each step timed in CPU time of its thread (`time.thread_time`, one torch thread), so other work on a "
        "shared machine adds little. "
        "A step is the trainer's (`mtl_core.train.step`), from zero_grad to the optimiser step. "
        "Gradient-based methods are timed in both spaces of their `space` hyper-parameter: `parameters` (a "
        "backward pass per task through the whole model) and `representation` (a backward pass per task "
        "through the heads only, then one through the trunk); both with the trainer's Jacobian mode, `per_task`. "
        "Targets: in the representation space every gradient method ≤ 1.6× at T = 3 and ≤ 2.0× at T = 10; "
        "in the parameter space PCGrad / IMTL-G / UPGrad ≤ 2.5×, MGDA / CAGrad / Nash-MTL ≤ 3× at T = 3; "
        "loss-based ≤ 1.1×. A method whose state follows gradient coordinates refuses the representation "
        "space (`refused`).",
        "", f"Machine: {machine()}.", "", "Reproduce: `python -m bench.step_time`", "", table(rows, tasks), "",
    ])


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--only", nargs="*", help="strategy names (default: every registered one)")
    parser.add_argument("--tasks", type=int, nargs="*", default=[3, 10])
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=40)
    parser.add_argument("--out", type=Path, default=Path("docs/benchmarks.md"))
    parser.add_argument("--modes", nargs="*", default=["per_task"], choices=["per_task", "batched"],
                        help="Jacobian modes of the gradient-based methods (the trainer uses per_task)")
    parser.add_argument("--no-write", action="store_true", help="print the table only")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    names = args.only or [name for name in available() if name != BASELINE]
    rows = measure(names, args.tasks, args.warmup, args.repeats, args.modes)
    text = section(rows, args.tasks, args.warmup, args.repeats)
    print(text)
    if not args.no_write:
        write_section(SECTION, text, args.out)


if __name__ == "__main__":
    main()
