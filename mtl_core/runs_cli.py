"""``python -m mtl_core runs ...``: list, show, export, delete and rerun stored runs; and how ``run``, ``compare``
and ``pareto`` store theirs.

Listing and showing read SQLite only (no PyTorch), so they answer at once; ``rerun`` trains.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from mtl_core.atomic import failure
from mtl_core.errors import MTLError
from mtl_core.store import FORMATS, STATUSES, RunStore, RunSummary, StoredRun, dataset_fingerprint
from mtl_core.store.checkpoints import LastWeights

if TYPE_CHECKING:
    from mtl_core.experiment import Experiment
    from mtl_core.results import RunResults
    from mtl_core.store.records import GroupKind
    from mtl_core.train import Event

EXIT_OK, EXIT_DIVERGED = 0, 1
LIST_LIMIT = 20
COLUMNS = (("id", 16), ("created (UTC)", 16), ("status", 11), ("dataset", 16), ("strategy", 12),
           ("architecture", 12), ("epochs", 9), ("key metric", 30))
EXPORT_HELP = ("json: one file with the id, status, config, history, metrics, predictions, best epoch and versions "
               "(default OUT: ./<id>.json). csv: a folder (default ./<id>/) with config.json, history.csv (one row "
               "per epoch: train_loss.<task>, val_loss.<task>, weight.<task>, val.<task>.<metric>, extra.<name>), "
               "metrics.csv (split, task, metric, value) and predictions.csv (task, row, true, predicted, p(<class>))")


MLFLOW_HELP = (" mlflow: the run (or, given a comparison's or sweep's group id, every run of it, nested under a "
               "parent run) logged to MLflow: the config as params, per-epoch metrics with step = epoch, "
               "final.<split>.<task>.<metric>, and config.json, results.json and stored weights as artefacts")


def add_store_arguments(parser: argparse.ArgumentParser, opt_out: bool = True) -> None:
    """``--db`` (and, for commands that train, ``--no-store``)."""
    parser.add_argument("--db", metavar="PATH", help="the run store's SQLite file (default: $MTL_DB, else "
                                                     "$MTL_HOME/runs.sqlite, else ~/.local/share/mtl-lab/runs.sqlite)")
    if opt_out:
        parser.add_argument("--no-store", action="store_true", help="do not keep this in the run store")


def open_store(args: argparse.Namespace) -> RunStore | None:
    """The run store the arguments name (None with ``--no-store``), with dead processes' runs marked interrupted."""
    if getattr(args, "no_store", False):
        return None
    return existing_store(args)


def existing_store(args: argparse.Namespace) -> RunStore:
    """The run store ``--db`` (or the default) names, with dead processes' runs marked interrupted."""
    store = RunStore(args.db)
    store.mark_interrupted()
    return store


def add_runs_commands(commands: Any) -> None:
    """``runs list|show|export|delete|rerun``."""
    runs = commands.add_parser("runs", help="the stored runs: list, show, export, delete, rerun")
    actions = runs.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="stored runs, newest first, as a table")
    for name in ("dataset", "strategy", "architecture"):
        listing.add_argument(f"--{name}", help=f"only runs of this {name}")
    listing.add_argument("--status", choices=STATUSES, help="only runs that ended so")
    listing.add_argument("--group", help="only the runs of this comparison or sweep")
    listing.add_argument("--search", help="only runs whose id, dataset, strategy, architecture or reason contains it")
    listing.add_argument("--limit", type=int, default=LIST_LIMIT, help=f"rows per page (default {LIST_LIMIT})")
    listing.add_argument("--offset", type=int, default=0, help="rows to skip (the next page: --offset LIMIT)")
    listing.set_defaults(handler=command_list_runs)
    show = actions.add_parser("show", help="one run: config, how it ended, final metrics, epochs, files")
    show.set_defaults(handler=command_show)
    export = actions.add_parser("export", help="write a run's config, history, metrics and predictions",
                                description=EXPORT_HELP)
    export.add_argument("--format", choices=(*FORMATS, "mlflow"), default="json", help=EXPORT_HELP + MLFLOW_HELP)
    export.add_argument("--out", help="file (json) or folder (csv) to write")
    export.add_argument("--tracking-uri", metavar="URI", help="mlflow: the tracking server or store (default: "
                                                              "$MLFLOW_TRACKING_URI, else sqlite:///mlflow.db here)")
    export.add_argument("--experiment", metavar="NAME", help="mlflow: the experiment to log into (default mtl-lab)")
    export.set_defaults(handler=command_export)
    delete = actions.add_parser("delete", help="delete a run's rows and its folder of files")
    delete.set_defaults(handler=command_delete)
    rerun = actions.add_parser("rerun", help="train a stored run's config again (stored as a new run) and say "
                                             "whether its numbers are identical")
    rerun.add_argument("--quiet", action="store_true", help="no progress bar")
    rerun.set_defaults(handler=command_rerun)
    for parser in (listing, show, export, delete, rerun):
        add_store_arguments(parser, opt_out=False)
    for parser in (show, export, delete, rerun):
        parser.add_argument("id", metavar="ID", help="the run's id (runs list shows them)" + (
            "; with --format mlflow also a comparison's or sweep's group id" if parser is export else ""))


def command_list_runs(args: argparse.Namespace) -> int:
    """The table of runs, newest first, and which rows of how many it shows."""
    store = existing_store(args)
    filters = {"dataset": args.dataset, "strategy": args.strategy, "status": args.status,
               "architecture": args.architecture, "group_id": args.group, "search": args.search}
    runs = store.list_runs(**filters, limit=args.limit, offset=args.offset)
    total = store.count_runs(**filters)
    print(table_line([name for name, _ in COLUMNS]))
    for run in runs:
        print(table_line(summary_cells(run)))
    shown = f"rows {args.offset + 1}-{args.offset + len(runs)}" if runs else "no rows"
    more = f"; --offset {args.offset + len(runs)} for the next page" if args.offset + len(runs) < total else ""
    print(f"{shown} of {total} run{'s' if total != 1 else ''} in {store.path}{more}")
    return EXIT_OK


def table_line(cells: list[str]) -> str:
    """Cells padded (or cut with …) to the column widths.

    >>> table_line(["a", "b", "c", "a-very-long-data-set-name", "e", "f", "g", "h"]).split()[2:5]
    ['c', '…g-data-set-name', 'e']
    """
    fitted = [cell if len(cell) <= width else "…" + cell[len(cell) - width + 1:]
              for cell, (_, width) in zip(cells, COLUMNS, strict=True)]
    return "  ".join(cell.ljust(width) for cell, (_, width) in zip(fitted, COLUMNS, strict=True)).rstrip()


def summary_cells(run: RunSummary) -> list[str]:
    """One run's cells of the list."""
    key = run.key_metric
    metric = "" if key is None else f"{key[0]} {key[1]} {'n/a' if key[2] is None else format(key[2], '.4g')}"
    return [run.id, utc(run.created), run.status, Path(run.dataset).name, run.strategy, run.architecture,
            f"{run.epochs_run}/{run.epochs_planned}", metric]


def utc(seconds: float | None) -> str:
    """``YYYY-MM-DD HH:MM`` in UTC ('' for None)."""
    return "" if seconds is None else time.strftime("%Y-%m-%d %H:%M", time.gmtime(seconds))


def command_show(args: argparse.Namespace) -> int:
    """What ran, how it ended, its final metrics, its epochs and its files."""
    run = existing_store(args).require(args.id)
    print_run(run, sys.stdout)
    return EXIT_OK


def print_run(run: StoredRun, stream: TextIO) -> None:
    """The ``runs show`` text."""
    summary, config = run.summary, run.config
    reason = f" ({summary.reason})" if summary.reason else ""
    duration = "" if summary.duration_s is None else f" in {summary.duration_s:.2f} s"
    lines = [f"run {summary.id}: {summary.status}{reason}",
             f"created {utc(summary.created)} UTC by {summary.source}; {summary.epochs_run}/{summary.epochs_planned} "
             f"epochs{duration} on {summary.device or 'an unknown device'}"]
    if summary.group_id:
        lines.append(f"group: {summary.group_id} ({summary.label})")
    lines += config_lines(config)
    if run.best_epoch is not None and run.best_value is not None:
        lines.append(f"best epoch: {run.best_epoch} ({config['train'].get('select')} {run.best_value:.4f})")
    lines += epoch_lines(run.history)
    for split in ("val", "test"):
        for task, values in run.metrics.get(split, {}).items():
            shown = "  ".join(f"{name} {value:.4f}" for name, value in values.items() if value is not None)
            lines.append(f"{split} {task}: {shown}")
    if run.artefacts:
        name, path = next(iter(run.artefacts.items()))
        lines.append(f"files in {path[: len(path) - len(name)]}: {', '.join(run.artefacts)}")
    lines.append("versions: " + ", ".join(f"{name} {version}" for name, version in run.versions.items()))
    stream.write("".join(f"{line}\n" for line in lines))


def config_lines(config: dict[str, Any]) -> list[str]:
    """Data, tasks, model, strategy and training settings, one line each."""
    data, model, strategy, train = (config.get(key, {}) for key in ("data", "model", "strategy", "train"))
    tasks = ", ".join(f"{task['name']} ({task.get('kind')}, {task.get('metric')})" for task in config.get("tasks", []))
    extra = {key: value for key, value in strategy.items() if key != "name"}
    return [f"data: {data.get('path') or data.get('dataset')} (split seed {data.get('split_seed')}); tasks: {tasks}",
            f"model: {model.get('architecture')} hidden {model.get('hidden')}; strategy: {strategy.get('name')}"
            + (f" {extra}" if extra else ""),
            f"train: epochs {train.get('epochs')}, batch size {train.get('batch_size')}, lr {train.get('lr')}, "
            f"optimizer {train.get('optimizer')}, seed {train.get('seed')}, device {train.get('device')}"]


def epoch_lines(history: list[dict[str, Any]]) -> list[str]:
    """How many epochs were stored and the train losses of the first and last."""
    if not history:
        return ["epochs: none stored"]
    def losses(entry: dict[str, Any]) -> str:
        return ", ".join(f"{task} {value:.4f}" for task, value in entry["train_loss"].items())
    return [f"epochs: {len(history)} stored; train loss at epoch {history[0]['epoch']}: {losses(history[0])}; "
            f"at epoch {history[-1]['epoch']}: {losses(history[-1])}"]


def command_export(args: argparse.Namespace) -> int:
    """Write the run as json (a file) or csv (a folder), or log it (or a group's runs) to MLflow."""
    if args.format == "mlflow":
        return export_mlflow(args)
    out = Path(args.out) if args.out else Path(f"{args.id}.json" if args.format == "json" else args.id)
    try:
        written = existing_store(args).export(args.id, args.format, out)
    except OSError as error:  # no permission, a full disk, a file where the folder should be
        if isinstance(error, MTLError):
            raise
        raise failure(out, error) from None
    print(f"run {args.id} exported as {args.format}: {written}")
    return EXIT_OK


def export_mlflow(args: argparse.Namespace) -> int:
    """``runs export ID --format mlflow``: log the run, or every run of the group, to the tracking URI."""
    from mtl_core.store.mlflow_export import export_to_mlflow

    if args.out:
        from mtl_core.errors import ConfigError

        raise ConfigError("--out is for json and csv; for mlflow give --tracking-uri (and --experiment)")
    done = export_to_mlflow(existing_store(args), args.id, args.tracking_uri, args.experiment)
    if done.parent_run_id is not None:
        print(f"group {args.id} exported to MLflow at {done.tracking_uri}: experiment {done.experiment_id}, parent "
              f"run {done.parent_run_id} with {len(done.run_ids)} nested run{'s' if len(done.run_ids) != 1 else ''}")
    else:
        print(f"run {args.id} exported to MLflow at {done.tracking_uri}: experiment {done.experiment_id}, "
              f"run {done.run_ids[args.id]}")
    return EXIT_OK


def command_delete(args: argparse.Namespace) -> int:
    """Delete the run; an unknown id is a user error."""
    store = existing_store(args)
    store.require(args.id)
    store.delete(args.id)
    print(f"run {args.id} deleted")
    return EXIT_OK


def command_rerun(args: argparse.Namespace) -> int:
    """Train the stored config again and compare the two runs' test metrics and history losses."""
    from mtl_core.config import ExperimentConfig
    from mtl_core.experiment import Experiment

    store = existing_store(args)
    stored = store.require(args.id)
    experiment = Experiment(ExperimentConfig.from_dict(stored.config))
    run_id, results = train_stored(experiment, store, "rerun", quiet=args.quiet)
    assert run_id is not None, "a run trained with a store is stored"
    same = identical(stored, store.require(run_id))
    for name, metrics in ((args.id, stored.metrics), (run_id, results.metrics)):
        for task, values in metrics.get("test", {}).items():
            shown = "  ".join(f"{metric} {value:.6g}" for metric, value in values.items() if value is not None)
            print(f"{name} test {task}: {shown}")
    print(f"run {run_id}: {'identical to' if same else 'different from'} run {args.id} "
          f"(test metrics and per-epoch losses{' equal' if same else ' differ'})")
    return EXIT_DIVERGED if results.status == "diverged" else EXIT_OK


def identical(first: StoredRun, second: StoredRun) -> bool:
    """Same status, test metrics and per-epoch train and validation losses, number for number."""
    def numbers(run: StoredRun) -> tuple[Any, ...]:
        return (run.status, run.metrics.get("test"),
                [(entry["epoch"], entry["train_loss"], entry["val_loss"]) for entry in run.history])
    return numbers(first) == numbers(second)


def train_stored(experiment: Experiment, store: RunStore | None, source: str, quiet: bool,
                 run_dir: str | None = None) -> tuple[str | None, RunResults]:
    """Train with the CLI's progress bar, writing the run folder(s) and storing the run as it goes."""
    from contextlib import ExitStack

    from mtl_core.cli import Progress, fan_out
    from mtl_core.runs import RunFolder

    with ExitStack() as cleanup:
        recording = cleanup.enter_context(Recording(store, experiment, source)) if store is not None else None
        folder = cleanup.enter_context(RunFolder(run_dir, experiment.config, experiment.dataset)) if run_dir else None
        progress = None if quiet or not sys.stderr.isatty() else Progress(sys.stderr)
        if progress is not None:
            cleanup.callback(progress.close)
        consumers = [consumer.update for consumer in (progress, folder, recording) if consumer is not None]
        results = experiment.results(on_event=fan_out(consumers))
    for written in (folder, recording):
        if written is not None:
            written.finish(results, experiment.model)
    return (recording.run_id if recording is not None else None), results


class Recording:
    """A run in the store as it trains: its row at start, each event as it comes, its folder of files beside
    the database, the results at the end; ``failed`` (or ``interrupted`` by Ctrl-C) when training raises."""

    def __init__(self, store: RunStore, experiment: Experiment, source: str) -> None:
        from mtl_core.runs import RunFolder, portable

        self.store = store
        self.run_id = store.start_run(portable(experiment.config), source=source)
        self.record = store.recorder(self.run_id)
        self.folder = RunFolder(store.run_dir(self.run_id), experiment.config, experiment.dataset)
        self.last = LastWeights(experiment.model, experiment.config.train.select)

    def __enter__(self) -> Recording:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, *_: object) -> None:
        self.folder.__exit__(kind, error)
        if isinstance(error, KeyboardInterrupt):
            self.store.fail(self.run_id, "stopped from the keyboard (Ctrl-C)", status="interrupted")
        elif error is not None:
            self.store.fail(self.run_id, f"{type(error).__name__}: {error}")

    def update(self, event: Event) -> None:
        """Store the event, write it to train.log, keep the epoch's weights."""
        self.record(event)
        self.folder.update(event)
        self.last.update(event)

    def finish(self, results: RunResults, model: Any) -> None:
        """Weights (best.pt, last.pt) and results.json into the folder; final metrics, predictions and the file list
        into the store."""
        self.folder.finish(results, model, self.last)
        self.store.finish(self.run_id, results, dataset_fingerprint=dataset_fingerprint(self.folder.folder))
        self.store.add_artefacts(self.run_id)


class GroupRecording:
    """A comparison or sweep in the store: the group at start, each run as it ends, the summary at the end."""

    def __init__(self, store: RunStore, kind: GroupKind, config: Any) -> None:
        self.store, self.kind = store, kind
        self.group_id = store.start_group(kind, config)
        self.on_run = store.group_recorder(self.group_id, source=kind)

    def __enter__(self) -> GroupRecording:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, *_: object) -> None:
        if error is not None:
            self.store.fail_group(self.group_id, f"{type(error).__name__}: {error}")

    def finish(self, summary: dict[str, Any]) -> None:
        """Store the summary the comparison returned."""
        self.store.finish_group(self.group_id, summary)
