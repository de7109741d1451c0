"""``python -m mtl_core sweep SWEEP``: train every trial of a sweep file on a backend, store them as one group,
print the trials and the best one. Exit 0 when every trial completed, 1 when one failed or diverged (the
others are kept and reported), 2 for a user error before anything trains."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from mtl_core.sweep.backends import BACKENDS


def add_backend_arguments(parser: argparse.ArgumentParser, default: str | None) -> None:
    """``--backend``, ``--address`` and ``--max-concurrent`` (default None for compare and pareto: as before)."""
    parser.add_argument("--backend", choices=BACKENDS, default=default,
                        help="where runs train: local (a pool of processes here) or ray (Ray Tune: this machine, or "
                             "the cluster at --address)" + (f"; default {default}" if default else
                                                            "; default: one after another in this process"))
    parser.add_argument("--address", help="a Ray cluster to join, e.g. ray://head:10001 or auto (ray only)")
    parser.add_argument("--max-concurrent", type=int, default=None, metavar="N",
                        help="runs training at once (default: the sweep file's, else 2; at most MTL_MAX_CONCURRENT_TRIALS)")


def add_sweep_command(commands: Any) -> None:
    """The ``sweep`` sub-command."""
    from mtl_core.runs_cli import add_store_arguments

    sweep = commands.add_parser("sweep", help="train every trial of a sweep file (a grid and random draws of settings "
                                              "over seeds) on local processes or Ray; the best by a metric")
    sweep.add_argument("sweep", metavar="SWEEP", help="the sweep file (TOML, YAML or JSON; see docs/scaling.md)")
    add_backend_arguments(sweep, "local")
    sweep.add_argument("--out", help="where to write the sweep's JSON (default: $MTL_RESULTS_DIR or ./mtl_results/, "
                                     "as <sweep name>-sweep-<UTC time>.json)")
    sweep.add_argument("--quiet", action="store_true", help="no progress bar and no table")
    add_store_arguments(sweep)
    sweep.set_defaults(handler=command_sweep)


def concurrency(requested: int | None, default: int) -> int:
    """The runs that may train at once: ``requested`` (else ``default``), refused past MAX_CONCURRENT_TRIALS."""
    from mtl_core import limits
    from mtl_core.errors import ConfigError

    value = requested if requested is not None else min(default, limits.MAX_CONCURRENT_TRIALS)
    if not 1 <= value <= limits.MAX_CONCURRENT_TRIALS:
        raise ConfigError(f"--max-concurrent {value}: give 1 to {limits.MAX_CONCURRENT_TRIALS}; "
                          f"{limits.describe('MAX_CONCURRENT_TRIALS')}")
    return value


def check_trials(count: int, epochs: int) -> None:
    """ConfigError (exit 2, before anything trains) past MAX_TRIALS or the epochs of one comparison."""
    from mtl_core import limits
    from mtl_core.errors import ConfigError

    if count > limits.MAX_TRIALS:
        raise ConfigError(f"this sweep has {count:,} trials: {limits.describe('MAX_TRIALS')}. Vary fewer keys or "
                          f"values, or draw fewer samples or seeds")
    if count * epochs > limits.MAX_COMPARISON_EPOCHS:
        raise ConfigError(f"this sweep would train {count:,} trials × {epochs:,} epochs = {count * epochs:,} epochs: "
                          f"{limits.describe('MAX_COMPARISON_EPOCHS')}. Use fewer trials or epochs")


def command_sweep(args: argparse.Namespace) -> int:
    """Read and expand the sweep (every trial checked), train it into a stored group, write and print the result."""
    from mtl_core.cli import _run_progress, check_out, default_out
    from mtl_core.runs_cli import GroupRecording, open_store
    from mtl_core.sweep.backends import make_backend
    from mtl_core.sweep.runner import run_sweep
    from mtl_core.sweep.spec import count_trials, expand, load_sweep, source_name

    spec, base = load_sweep(args.sweep)
    check_trials(count_trials(spec), int(base.get("train", {}).get("epochs", 100)))
    trials = expand(spec, base, source_name(args.sweep))
    check_trials(len(trials), max(trial.config["train"]["epochs"] for trial in trials))
    out = Path(args.out) if args.out else default_out(Path(args.sweep).with_name(f"{Path(args.sweep).stem}-sweep"))
    check_out(out)
    backend = make_backend(args.backend, max_concurrent=concurrency(args.max_concurrent, spec.max_concurrent or 2),
                           address=args.address, cpus=spec.resources.cpus, gpus=spec.resources.gpus,
                           scheduler=spec.asha if spec.scheduler == "asha" else None, mode=spec.mode)
    store = open_store(args)
    try:
        with _run_progress(args.quiet) as progress:
            if store is None:
                summary = run_sweep(spec, trials, backend, on_progress=progress)
                group_id = None
            else:
                with GroupRecording(store, "sweep", trials[0].config) as group:
                    summary = run_sweep(spec, trials, backend, on_run=group.on_run, on_progress=progress)
                    group.finish(summary)
                group_id = group.group_id
    finally:
        release_backend(args)
    return _finish(args, summary, out, group_id)


def release_backend(args: argparse.Namespace) -> None:
    """End the Ray instance a ``--backend ray`` command started (a joined cluster goes on)."""
    if getattr(args, "backend", None) == "ray":
        from mtl_core.sweep.ray_backend import shutdown_started

        shutdown_started()


def _finish(args: argparse.Namespace, summary: dict[str, Any], out: Path, group_id: str | None) -> int:
    from mtl_core.runs import write_results

    write_results(out, summary)
    if not args.quiet:
        print(sweep_text(summary), file=sys.stdout)
        if group_id is not None:
            print(f"group: {group_id} (python -m mtl_core runs list --group {group_id})", file=sys.stdout)
        print(f"results: {out}", file=sys.stdout)
    bad = any(row["status"] in ("failed", "diverged") for row in summary["trials"])
    return 1 if bad else 0


def sweep_text(summary: dict[str, Any]) -> str:
    """One line per trial (its metric value, status and reason), then the best trial."""
    metric = summary["metric"]
    lines = [f"{len(summary['trials'])} trials on {summary['backend']['name']} in {summary['duration_s']:.1f} s; "
             f"{metric['name']} ({metric['mode']}):"]
    for row in summary["trials"]:
        value = "n/a" if row["value"] is None else f"{row['value']:.6g}"
        reason = f" ({row['reason']})" if row["reason"] and row["status"] != "completed" else ""
        lines.append(f"  #{row['index']:<3} {value:>12}  {row['status']}{reason}  {row['label']}")
    best = summary["best"]
    lines.append(f"best: #{best['index']} {best['label']}: {metric['name']} {best['value']:.6g}" if best
                 else "best: none (no trial has a value for the metric)")
    lines.extend(f"note: {note}" for note in summary["notes"])
    return "\n".join(lines)
