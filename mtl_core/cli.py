"""``python -m mtl_core``: run an experiment from a config file, compare methods over seeds, or list what is registered.

Every run, comparison and sweep is kept in the run store (``mtl_core.store``; ``--db PATH`` or ``$MTL_DB`` name
its file, ``--no-store`` opts out), and ``runs`` lists, shows, exports, deletes and reruns what it holds.

Exit codes: 0 a run completed (or was stopped), 1 a run diverged (its results are still written; for compare
and pareto: any of their runs, which is reported and left out of the statistics),
2 a user error (one line on stderr naming the setting, file or column, or an unknown run id).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal, NoReturn, TextIO

from typing import TYPE_CHECKING

from mtl_core import catalogue
from mtl_core.atomic import WriteError, failure
from mtl_core.errors import MTLError
from mtl_core.insight.toy_cli import add_toy_command
from mtl_core.runs_cli import GroupRecording, add_runs_commands, add_store_arguments, open_store, train_stored
from mtl_core.sweep.cli import add_backend_arguments, add_sweep_command, release_backend

if TYPE_CHECKING:  # the engine (PyTorch, scikit-learn) loads only for the commands that train
    from mtl_core.results import RunResults
    from mtl_core.train import Event

EXIT_OK, EXIT_DIVERGED, EXIT_USER_ERROR = 0, 1, 2


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, dispatch, and turn an MTLError (or an OSError about a path given) into one line on stderr
    and exit code 2."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except MTLError as error:
        print(f"error: {one_line(str(error))}", file=sys.stderr)
        return EXIT_USER_ERROR
    except OSError as error:  # a path the system refuses (too long, a loop of links, no permission), a full disk
        from mtl_core.atomic import shown_path

        where = shown_path(error.filename) if error.filename is not None else "a file"
        print(f"error: {where}: {error.strerror or type(error).__name__}", file=sys.stderr)
        return EXIT_USER_ERROR


_LONG_QUOTED = re.compile(r"'(?:[^'\\]|\\.){201,}?'" + r'|"(?:[^"\\]|\\.){201,}?"')


def one_line(message: str, limit: int = 1_000) -> str:
    """The message on one line, each quoted value cut to 200 characters and the whole to ``limit``.

    >>> one_line("no strategy named '" + "x" * 500 + "'. Available: equal")[-30:]
    "xxxxxxxxxx…'. Available: equal"
    """
    text = _LONG_QUOTED.sub(lambda found: found.group(0)[:201] + "…" + found.group(0)[0], " ".join(message.split()))
    return text if len(text) <= limit else text[: limit - 1] + "…"


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line on stderr (exit 2), naming the help to read, values cut."""

    def error(self, message: str) -> NoReturn:
        text = " ".join(message.split())
        text = text if len(text) <= 300 else text[:299] + "…"
        self.exit(EXIT_USER_ERROR, f"error: {text} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with the ``run``, ``predict``, ``list``, ``compare``, ``pareto`` and ``runs`` commands."""
    parser = OneLineParser(prog="python -m mtl_core", description="MTL Lab: multi-task learning, headless.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="train one experiment from a TOML, YAML or JSON config")
    run.add_argument("config", help="path of the config file")
    run.add_argument("--out", help="where to write RESULTS.json (default: $MTL_RESULTS_DIR or ./mtl_results/, "
                                   "or DIR/results.json with --run-dir)")
    run.add_argument("--run-dir", metavar="DIR", help="also write DIR/checkpoints/best.pt, DIR/train.log and what "
                                                      "predict needs (DIR/config.toml, DIR/run.json)")
    run.add_argument("--overwrite", action="store_true", help="replace the run in a non-empty --run-dir (the old "
                                                              "run stays until the new one is complete)")
    run.add_argument("--set", dest="overrides", action="extend", nargs="+", default=[], metavar="KEY=VALUE",
                     help="override a setting by its dotted key, e.g. strategy.name=equal tasks.0.loss=l1")
    run.add_argument("--quiet", action="store_true", help="no progress bar and no summary")
    add_store_arguments(run)
    run.set_defaults(handler=command_run)
    predict = commands.add_parser("predict", help="predict new rows or images with a run saved by run --run-dir")
    predict.add_argument("run_dir", metavar="RUN_DIR", help="the folder given to run --run-dir")
    predict.add_argument("data", metavar="DATA", help="a CSV/TSV/Parquet table of new rows; for image runs an image "
                                                      "folder with a listing CSV, or a .npy array [N, C, H, W]")
    predict.add_argument("--labels", help="image folder: the listing CSV naming the files (default labels.csv)")
    predict.add_argument("--out", default="predictions.csv", help="where to write the predictions CSV "
                                                                   "(default: ./predictions.csv)")
    predict.set_defaults(handler=command_predict)
    listing = commands.add_parser("list", help="print the registered names of one kind, one per line")
    listing.add_argument("what", choices=list(catalogue.NAMES))
    listing.set_defaults(handler=command_list)
    add_comparison_commands(commands)
    add_sweep_command(commands)
    add_runs_commands(commands)
    add_toy_command(commands)
    return parser


def add_comparison_commands(commands: Any) -> None:
    """The ``compare`` and ``pareto`` sub-commands."""
    compare = commands.add_parser("compare", help="each strategy's multi-task model against single-task training, "
                                                  "over seeds: mean ± std, paired tests, Δm%%, verdicts")
    _comparison_arguments(compare, "compare")
    compare.add_argument("--metrics", type=_names, default=None, metavar="M1,M2",
                         help="metrics to report besides each task's primary one, e.g. r2,auc")
    compare.set_defaults(handler=command_compare)
    pareto = commands.add_parser("pareto", help="sweep static loss weights over the simplex (2 or 3 tasks) and place "
                                                "the strategies and single-task training beside the front")
    _comparison_arguments(pareto, "pareto")
    pareto.add_argument("--points", type=int, default=7, metavar="K",
                        help="weights per task: K points along the segment for 2 tasks, a grid of K(K-1)/2 for 3 "
                             "(zero weights excluded; odd K puts equal weighting on the segment; default 7)")
    pareto.set_defaults(handler=command_pareto)


def _comparison_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    seeds = 5 if name == "compare" else 3
    parser.add_argument("config", help="path of the config file")
    parser.add_argument("--seeds", type=int, default=seeds, metavar="N",
                        help=f"train.seed values from the config's own upwards; the data split stays fixed "
                             f"(default {seeds})")
    parser.add_argument("--strategies", type=_names, default=None, metavar="A,B",
                        help="multi-task strategies, comma-separated (default: the config's strategy)")
    parser.add_argument("--set", dest="overrides", action="extend", nargs="+", default=[], metavar="KEY=VALUE",
                        help="override a setting by its dotted key, e.g. train.epochs=20")
    parser.add_argument("--out", help=f"where to write the JSON (default: $MTL_RESULTS_DIR or ./mtl_results/, "
                                      f"as <config name>-{name}-<UTC time>.json)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar and no summary")
    add_backend_arguments(parser, None)
    add_store_arguments(parser)


def _names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",")]


def command_compare(args: argparse.Namespace) -> int:
    """Run the comparison, write its JSON, print the table, Δm% in words and the verdicts."""
    from mtl_core.compare import compare
    from mtl_core.compare.text import comparison_text

    backend = comparison_backend(args)
    return _comparison(args, "compare", 0, comparison_text,
                       lambda config, progress, on_run: compare(config, args.seeds, args.strategies, args.metrics,
                                                                on_progress=progress, on_run=on_run,
                                                                backend=backend))


def _comparison(args: argparse.Namespace, kind: Literal["compare", "pareto"], points: int,
                describe: Callable[[dict[str, Any]], str], train: Callable[..., dict[str, Any]]) -> int:
    """The shared course of compare and pareto: read the config, refuse work past the limits and an output that
    cannot be written before any run, train (``train(config, progress, on_run)``) into a stored group, finish."""
    from mtl_core.config import load_config

    config = load_config(args.config, checked(args.overrides))
    check_comparison_work(config, args.seeds, args.strategies, points)
    check_out(comparison_out(args, kind))
    try:
        with _run_progress(args.quiet) as progress, _group(args, kind, config) as group:
            summary = train(config, progress, group.on_run if group else None)
            if group is not None:
                group.finish(summary)
    finally:
        release_backend(args)
    return _finish(args, kind, summary, describe, group)


def check_comparison_work(config: Any, seeds: int, strategies: Sequence[str] | None, points: int) -> None:
    """ConfigError (exit 2) before any run when seeds, points or the comparison's total epochs pass their limits."""
    from mtl_core import limits
    from mtl_core.compare.settings import ComparisonSettings, check_work
    from mtl_core.errors import ConfigError
    from mtl_core.experiment import resolve

    for option, value, low, name in (("--seeds", seeds, 1, "MAX_SEEDS"), ("--points", points, 0, "MAX_POINTS")):
        if not low <= value <= limits.LIMITS[name].value:
            raise ConfigError(f"{option} {value}: give {low} to {limits.LIMITS[name].value}; {limits.describe(name)}")
    settings = ComparisonSettings(strategies=tuple(strategies or (config.strategy.name,)), seeds=seeds, points=points)
    check_work(settings, config.train.epochs, len(resolve(config).tasks))


def command_pareto(args: argparse.Namespace) -> int:
    """Run the weight sweep and the references, write the JSON, print one row per point."""
    from mtl_core.compare import pareto
    from mtl_core.compare.text import front_text

    backend = comparison_backend(args)
    return _comparison(args, "pareto", args.points, front_text,
                       lambda config, progress, on_run: pareto(config, args.points, args.seeds, args.strategies,
                                                               on_progress=progress, on_run=on_run,
                                                               backend=backend))


def comparison_backend(args: argparse.Namespace) -> Any:
    """The backend ``--backend`` names (None without it: the runs train here, one group after another)."""
    if args.backend is None:
        if args.address or args.max_concurrent is not None:
            from mtl_core.errors import ConfigError

            raise ConfigError("--address and --max-concurrent go with --backend local or --backend ray")
        return None
    from mtl_core.sweep.backends import make_backend
    from mtl_core.sweep.cli import concurrency

    return make_backend(args.backend, max_concurrent=concurrency(args.max_concurrent, 2), address=args.address)


@contextmanager
def _group(args: argparse.Namespace, kind: Literal["compare", "pareto"], config: Any) -> Iterator[GroupRecording | None]:
    """The comparison's group in the run store (None with --no-store); marked failed if the comparison raises."""
    store = open_store(args)
    if store is None:
        yield None
        return
    with GroupRecording(store, kind, config) as group:
        yield group


def _finish(args: argparse.Namespace, name: str, summary: dict[str, Any],
            describe: Callable[[dict[str, Any]], str], group: GroupRecording | None = None) -> int:
    """Write the JSON, print the text; exit 1 when a run diverged (it is reported and left out of the numbers)."""
    from mtl_core.runs import write_results

    out = comparison_out(args, name)
    write_results(out, summary)
    if not args.quiet:
        print(describe(summary), file=sys.stdout)
        if group is not None:
            print(f"group: {group.group_id} (python -m mtl_core runs list --group {group.group_id})", file=sys.stdout)
        print(f"results: {out}", file=sys.stdout)
    diverged = any(run["status"] == "diverged" for run in summary["runs"])
    return EXIT_DIVERGED if diverged else EXIT_OK


@contextmanager
def _run_progress(quiet: bool) -> Iterator[Callable[[int, int, str], None] | None]:
    """A tqdm bar over the runs of a comparison on a terminal, else nothing."""
    if quiet or not sys.stderr.isatty():
        yield None
        return
    from tqdm import tqdm

    bar = tqdm(file=sys.stderr, unit="run", dynamic_ncols=True)
    def update(done: int, total: int, label: str) -> None:
        bar.total = total
        bar.set_postfix_str(label, refresh=False)
        bar.update(done - bar.n)
    try:
        yield update
    finally:
        bar.close()


def command_run(args: argparse.Namespace) -> int:
    """Train, show progress on a terminal, write RESULTS.json (and the run folder), print the test metrics."""
    from mtl_core.config import load_config
    from mtl_core.experiment import Experiment
    from mtl_core.runs import RESULTS_FILE, check_run_dir, write_results

    config = load_config(args.config, checked(args.overrides))
    out = Path(args.out) if args.out else None if args.run_dir else default_out(Path(args.config))
    if args.run_dir:  # both checked before anything trains: a run is not lost to a place it cannot be written
        check_run_dir(args.run_dir, args.overwrite)
    if out is not None:
        check_out(out)
    experiment = Experiment(config)
    run_id, results = train_stored(experiment, open_store(args), "cli", args.quiet, args.run_dir)
    if out is not None:
        write_results(out, results)
    if not args.quiet:
        print_summary(results, out or Path(args.run_dir) / RESULTS_FILE, sys.stdout, run_id)
        if args.run_dir:
            print(f"run folder: {args.run_dir} (checkpoints/best.pt, train.log, config.toml)", file=sys.stdout)
    return EXIT_DIVERGED if results.status == "diverged" else EXIT_OK


def fan_out(consumers: Sequence[Callable[[Event], None]]) -> Callable[[Event], None]:
    """One event handler that passes each event to every consumer in turn."""
    def handle(event: Event) -> None:
        for consumer in consumers:
            consumer(event)
    return handle


def command_predict(args: argparse.Namespace) -> int:
    """Rebuild a run from its folder and write one row of predictions per new row or image."""
    import pandas as pd

    from mtl_core.csv_safety import write_frame
    from mtl_core.predict import predict, read_inputs
    from mtl_core.runs import load_run

    out = Path(args.out)
    check_out(out)
    run = load_run(args.run_dir)
    ids, features = read_inputs(run, args.data, args.labels)
    table = pd.concat([ids, predict(run, features)], axis=1)
    try:
        write_frame(table, out)  # formula-like class names written as text (OWASP CSV Injection)
    except OSError as error:
        raise failure(out, error) from None
    print(f"{len(table)} predictions of {', '.join(run.dataset.info)}: {out}", file=sys.stdout)
    return EXIT_OK


def command_list(args: argparse.Namespace) -> int:
    """One registered name per line, from the catalogue (no PyTorch import: it answers at once)."""
    for name in catalogue.NAMES[args.what]:
        print(name)
    return EXIT_OK


def checked(overrides: list[str]) -> list[str]:
    """The ``--set`` overrides, each refused in one line when its value is too long, too deep or a huge integer."""
    from mtl_core.config_files import check_override

    for override in overrides:
        check_override(override)
    return overrides


def comparison_out(args: argparse.Namespace, name: str) -> Path:
    """Where compare or pareto writes its JSON: ``--out``, else the results folder."""
    config_path = Path(args.config)
    return Path(args.out) if args.out else default_out(config_path.with_name(f"{config_path.stem}-{name}"))


def check_out(out: Path) -> None:
    """WriteError (exit 2, before anything runs) unless ``--out`` names a file that can be written."""
    from mtl_core.atomic import check_writable, shown_path

    if out.is_dir():
        raise WriteError(f"--out {shown_path(out)} is a folder; give a file name")
    if out.exists() and not out.is_file():
        raise WriteError(f"--out {shown_path(out)} is a device or a pipe, not a file; give a file name")
    check_writable(out.parent, "--out")


def default_out(config_path: Path) -> Path:
    """``$MTL_RESULTS_DIR/<config name>-<UTC time>.json``, the folder defaulting to ./mtl_results."""
    folder = Path(os.environ.get("MTL_RESULTS_DIR", "mtl_results"))
    return folder / f"{config_path.stem}-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}.json"


def print_summary(results: RunResults, out: Path, stream: TextIO, run_id: str | None = None) -> None:
    """Status, then one line per task with its test metrics, the run's id in the store, where the results went."""
    line = f"status: {results.status}"
    if results.reason:
        line += f" ({results.reason})"
    print(f"{line}; {results.epochs_run} epochs in {results.duration_s:.2f} s", file=stream)
    if results.best_epoch is not None and results.best_value is not None:
        select = results.config["train"]["select"]
        print(f"best epoch: {results.best_epoch} ({select} {results.best_value:.4f}), evaluated below", file=stream)
    for task, values in results.metrics.get("test", {}).items():
        shown = "  ".join(f"{name} {value:.4f}" for name, value in values.items() if value is not None)
        print(f"test {task}: {shown}", file=stream)
    if run_id is not None:
        print(f"run: {run_id} (python -m mtl_core runs show {run_id})", file=stream)
    print(f"results: {out}", file=stream)


class Progress:
    """A tqdm bar over epochs with the per-task train losses in its postfix."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.bar: Any = None

    def update(self, event: Event) -> None:
        """Advance on each epoch."""
        from mtl_core.train import EpochEnded, RunStarted

        if isinstance(event, RunStarted):
            from tqdm import tqdm

            self.bar = tqdm(total=event.epochs, file=self.stream, unit="epoch", dynamic_ncols=True)
        elif isinstance(event, EpochEnded) and self.bar is not None:
            self.bar.set_postfix({name: f"{value:.4f}" for name, value in event.train_loss.items()}, refresh=False)
            self.bar.update(1)

    def close(self) -> None:
        """End the bar."""
        if self.bar is not None:
            self.bar.close()
