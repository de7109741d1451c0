"""Every strategy's step time as a ratio to the plain summed-loss step, in both gradient spaces, at T = 3 and 10,
beside torchjd's implementation of the same method (same model, batches, Jacobian and step), in the same run.

The set-up and the step are ``bench.step_time``'s (MLP trunk 32→256→256, one linear head per task, batch 256,
Adam). torchjd's aggregator replaces our strategy inside the trainer's own gradient step
(``mtl_core.train.step.gradient_based_grads``), so only the aggregation differs between the two columns.
"""

from __future__ import annotations

import importlib.util
import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor

from bench.step_time import BASELINE, SPACES, Batch, Setup, make_batches, make_setup, train_step
from bench.suite.options import Options, Progress
from bench.suite.records import record
from bench.suite.timing import Clock, interleaved
from mtl_core.errors import MTLError
from mtl_core.train.losses import stacked_losses
from mtl_core.train.step import gradient_based_grads
from mtl_core.weighting import available, create

SECTION = "## Weighting step time"
FULL = {"tasks": (3, 10), "warmup": 5, "repeats": 30}
QUICK = {"tasks": (3,), "warmup": 1, "repeats": 2}
# our registry name -> (torchjd aggregator, its settings as ours are by default)
THEIRS: dict[str, tuple[str, Callable[[int], dict[str, Any]]]] = {
    "upgrad": ("UPGrad", lambda t: {}), "mgda": ("MGDA", lambda t: {}), "pcgrad": ("PCGrad", lambda t: {}),
    "imtl_g": ("IMTLG", lambda t: {}), "dualproj": ("DualProj", lambda t: {}), "graddrop": ("GradDrop", lambda t: {}),
    "aligned_mtl": ("AlignedMTL", lambda t: {"scale_mode": "min"}), "config_grad": ("ConFIG", lambda t: {}),
    "gradvac": ("GradVac", lambda t: {"beta": 0.01}), "fairgrad": ("FairGrad", lambda t: {"alpha": 1.0}),
    "cagrad": ("CAGrad", lambda t: {"c": 0.4}),
    "nash_mtl": ("NashMTL", lambda t: {"n_tasks": t, "max_norm": 1.0, "update_weights_every": 1, "optim_niter": 20}),
    "rlw": ("Random", lambda t: {}),
}


class Aggregating:
    """A torchjd aggregator where the trainer's gradient step expects a strategy: ``direction = aggregator(J)``."""

    def __init__(self, aggregator: Callable[[Tensor], Tensor]) -> None:
        self.aggregator = aggregator

    def __call__(self, jacobian: Tensor, rows: Sequence[int] | None = None) -> Tensor:  # [T, P] -> [P]
        return self.aggregator(jacobian)

    def implied_weights(self) -> Tensor | None:
        return None  # torchjd's aggregators do not report task weights


def torchjd_aggregator(name: str, n_tasks: int) -> Callable[[Tensor], Tensor] | str:
    """torchjd's aggregator for our ``name``, or why there is none here."""
    if importlib.util.find_spec("torchjd") is None:
        return "torchjd not installed"
    aggregation = importlib.import_module("torchjd.aggregation")
    class_name, settings = THEIRS[name]
    try:
        return getattr(aggregation, class_name)(**settings(n_tasks))
    except ImportError as error:  # CAGrad and NashMTL need cvxpy and a solver
        return f"needs {str(error).split(' to be installed')[0].split('requires ')[-1]}"


def their_step(setup: Setup, batch: Batch, aggregator: Aggregating) -> None:
    """``bench.step_time.train_step`` with torchjd's aggregator in place of the strategy (parameter space)."""
    features, targets, masks = batch
    losses = stacked_losses(setup.model(features), targets, masks, setup.info)
    losses.detach().cpu().tolist()  # as the trainer's finite check reads them
    present = tuple(bool(masks[name].any()) for name in setup.info)
    setup.optimizer.zero_grad(set_to_none=True)
    gradient_based_grads(aggregator, losses, present, setup.shared, setup.heads, None)  # type: ignore[arg-type]
    setup.optimizer.step()


def on_device(setup: Setup, batches: list[Batch], device: str) -> tuple[Setup, list[Batch]]:
    """The set-up and batches moved to ``device`` (parameters move in place, so the optimiser keeps them)."""
    if device == "cpu":
        return setup, batches
    setup.model.to(device)
    moved = [(features.to(device), {k: v.to(device) for k, v in targets.items()},
              {k: v.to(device) for k, v in masks.items()}) for features, targets, masks in batches]
    return setup, moved


def clock_for(device: str) -> Clock:
    """CPU time of this thread on the CPU; wall time after a synchronise on CUDA (the GPU works asynchronously)."""
    if device == "cpu":
        return time.thread_time

    def synchronised() -> float:
        torch.cuda.synchronize()
        return time.perf_counter()
    return synchronised


def timed(step: Callable[[Batch], None], n_tasks: int, sizes: dict[str, Any], device: str) -> Any:
    """Interleave ``step`` with two identical plain summed-loss steps (baseline and its noise copy)."""
    batches = make_batches(n_tasks)
    baseline, batches_on = on_device(make_setup(BASELINE, n_tasks), batches, device)
    copy, _ = on_device(make_setup(BASELINE, n_tasks), batches, device)
    calls = iter(range(10**12))

    def run(action: Callable[[Batch], None]) -> Callable[[], None]:
        def call() -> None:  # the three steps of a round see the same batch
            action(batches_on[next(calls) // 3 % len(batches_on)])
        return call
    return interleaved(run(step), run(lambda b: train_step(baseline, b)), run(lambda b: train_step(copy, b)),
                       sizes["warmup"], sizes["repeats"], clock_for(device)), batches_on


def ours(name: str, n_tasks: int, space: str, sizes: dict[str, Any], device: str) -> dict[str, Any]:
    """Our strategy's step vs the plain step: a record's fields, or the reason it could not run."""
    try:
        setup = make_setup(name, n_tasks, space=space)
    except MTLError:
        return {"error": "refused"}
    batches = make_batches(n_tasks)
    setup, _ = on_device(setup, batches, device)
    timing, _ = timed(lambda batch: train_step(setup, batch), n_tasks, sizes, device)
    return {"timing": timing}


def theirs(name: str, n_tasks: int, sizes: dict[str, Any], device: str) -> dict[str, Any]:
    """torchjd's aggregator in the same step vs the plain step."""
    aggregator = torchjd_aggregator(name, n_tasks)
    if isinstance(aggregator, str):
        return {"error": aggregator}
    setup, _ = on_device(make_setup(BASELINE, n_tasks), make_batches(n_tasks), device)
    wrapped = Aggregating(aggregator)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # cvxpy's DPP notice on every NashMTL solve
        timing, _ = timed(lambda batch: their_step(setup, batch, wrapped), n_tasks, sizes, device)
    return {"timing": timing}


def to_records(result: dict[str, Any], parameters: dict[str, Any], device: str) -> list[dict[str, Any]]:
    if "error" in result:
        return [record("strategy_step", {**parameters, "error": result["error"]}, None, "s/step", device=device)]
    timing = result["timing"]
    return [record("strategy_step", parameters, timing.median, "s/step", timing.baseline_median, timing.ratio,
                   device=device),
            record("strategy_step_noise", parameters, None, "s/step", timing.baseline_median, timing.noise,
                   device=device)]


def measure_on(device: str, options: Options, progress: Progress) -> list[dict[str, Any]]:
    """Every strategy, both spaces, each T, ours and (where torchjd has it) theirs."""
    sizes = QUICK if options.quick else FULL
    out: list[dict[str, Any]] = []
    for name in [name for name in available() if name != BASELINE]:
        kind = create(name).kind
        for n_tasks in sizes["tasks"]:
            progress(f"{name} T={n_tasks} {device}")
            for space in (SPACES if kind == "gradient" else SPACES[:1]):
                parameters = {"strategy": name, "kind": kind, "tasks": n_tasks, "space": space, "impl": "mtl_core"}
                out += to_records(ours(name, n_tasks, space, sizes, device), parameters, device)
            if name in THEIRS:
                parameters = {"strategy": name, "kind": kind, "tasks": n_tasks, "space": "parameters",
                              "impl": f"torchjd.{THEIRS[name][0]}"}
                out += to_records(theirs(name, n_tasks, sizes, device), parameters, device)
    return out


def measure(options: Options, progress: Progress) -> list[dict[str, Any]]:
    return measure_on("cpu", options, progress)


def section(records: list[dict[str, Any]], options: Options) -> str:
    from bench.suite.strategies_doc import strategies_section
    return strategies_section(records, FULL, SECTION)
