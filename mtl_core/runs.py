"""A run's folder (``python -m mtl_core run CONFIG --run-dir DIR``) and loading it back to predict.

    DIR/config.toml          the resolved config (a relative data.path made absolute)
    DIR/run.json             a summary of the data the run trained on, checked when the run is loaded
    DIR/train.log            one block per epoch, as seed 003 printed them, written as the epochs end
    DIR/checkpoints/best.pt  the weights that were evaluated: a state_dict, ``torch.load(path, weights_only=True)``
    DIR/results.json         the RESULTS.json that ``run --out`` writes
    DIR/manifest.json        written last: every file's size and SHA-256, and how the run ended

The folder is written whole: the run is built in a hidden sibling (``.DIR.partial-<host>-<pid>``; its train.log
follows the epochs there) and swapped in when complete, so a run killed at any moment leaves DIR as it was,
the older complete run or none, never a mix. ``load_run`` refuses a folder whose files differ from its
manifest (cut short, copied from another run) with one line, as it does a corrupt or pickled checkpoint.

The preprocessing is not pickled. The split and the fitted preprocessor are a pure function of the
config and the data, so ``load_run`` rebuilds them with the code that trained the run (``prepare``)
and checks them against run.json. A pickle would run arbitrary code when loaded and breaks across
scikit-learn versions; the price of rebuilding is that the training data must still be readable
where the config says (built-in and generated data sets always are) and that it is read again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self, TextIO

import numpy as np
import torch
from torch import Tensor

from mtl_core.atomic import check_writable, failure, shown_path, staging_folder, swap_in, write_text
from mtl_core.config import ExperimentConfig, load_config
from mtl_core.data import MTLDataset
from mtl_core.errors import DataError
from mtl_core.experiment import prepare
from mtl_core.models import MTLModel
from mtl_core.results import RunResults
from mtl_core.store.checkpoints import CheckpointError, LastWeights, load_weights, save_weights
from mtl_core.train import EpochEnded, Event, RunEnded, RunStarted
from mtl_core.train.selection import Selection, watch_for
from mtl_core.train.trainer import build_run_model

CONFIG_FILE, RUN_FILE, LOG_FILE, RESULTS_FILE = "config.toml", "run.json", "train.log", "results.json"
CHECKPOINT_FILE, MANIFEST_FILE = "checkpoints/best.pt", "manifest.json"
MAX_JSON_BYTES = 50_000_000  # run.json and manifest.json are a few KB; results.json is not read back here
RUN_FORMAT = 2  # 2: the folder has a manifest.json, written last; 1: made before manifests (loaded without one)


def write_results(path: Path, results: RunResults | dict[str, Any]) -> None:
    """RESULTS.json (or a comparison's summary), written whole: indented strict JSON, a non-finite number as null.

    When numbers were not finite (a run whose loss overflowed) the reason says how many were written as null.
    """
    values, nulled = finite(results.to_dict() if isinstance(results, RunResults) else results)
    if nulled and isinstance(values, dict) and isinstance(values.get("reason"), str):
        note = f"{nulled} non-finite number{'s' if nulled != 1 else ''} (nan or inf) written as null"
        values["reason"] = f"{values['reason']}; {note}" if values["reason"] else note
    write_text(path, json.dumps(values, indent=1, allow_nan=False) + "\n")


def finite(value: Any) -> tuple[Any, int]:
    """``value`` with every nan and ±inf float replaced by None, and how many were.

    >>> finite({"a": [1.0, float("nan")], "b": {"c": float("inf")}, "d": "x"})
    ({'a': [1.0, None], 'b': {'c': None}, 'd': 'x'}, 2)
    """
    if isinstance(value, float):
        return (value, 0) if math.isfinite(value) else (None, 1)
    if isinstance(value, dict):
        pairs = [(key, *finite(item)) for key, item in value.items()]
        return {key: item for key, item, _ in pairs}, sum(count for _, _, count in pairs)
    if isinstance(value, (list, tuple)):
        items = [finite(item) for item in value]
        return [item for item, _ in items], sum(count for _, count in items)
    return value, 0


def check_run_dir(folder: str | Path, overwrite: bool) -> None:
    """DataError (before anything trains) unless ``folder`` is new, empty, or a run folder and ``overwrite``."""
    path = Path(folder)
    if path.exists() and not path.is_dir():
        raise DataError(f"--run-dir {shown_path(path)} is a file; give a folder (it is created if missing)")
    if path.is_dir() and any(path.iterdir()):
        if not overwrite:
            raise DataError(f"--run-dir {shown_path(path)} is not empty; give a new or empty folder, or add "
                            f"--overwrite to replace the run in it (kept until the new run is complete)")
        if not any((path / name).is_file() for name in (MANIFEST_FILE, RUN_FILE)):
            raise DataError(f"--run-dir {shown_path(path)} holds files that are not a run's (no {RUN_FILE}); "
                            f"--overwrite replaces only a run folder. Give a new or empty folder.")
    check_writable(path.resolve().parent, "--run-dir")


class RunFolder:
    """Writes one run's folder whole: built in a hidden sibling (``.<name>.partial-<host>-<pid>``) as the run goes, its
    manifest written last, then swapped in for any older folder of that name.

    Config and data summary first, train.log as events arrive, weights, results and manifest.json last. A
    run killed at any moment leaves the folder as it was (the older complete run, or none); one that raises
    leaves it so too. Use as a context manager so train.log is closed however the run ends.
    """

    def __init__(self, folder: str | Path, config: ExperimentConfig, dataset: MTLDataset) -> None:
        self.folder = Path(folder).resolve()
        if self.folder.exists() and not self.folder.is_dir():
            raise DataError(f"--run-dir {shown_path(self.folder)} is a file; give a folder (it is created if missing)")
        self.staging = staging_folder(self.folder)
        (self.staging / CHECKPOINT_FILE).parent.mkdir()
        write_text(self.staging / CONFIG_FILE, portable(config).to_toml())
        summary = {"format": RUN_FORMAT, "checkpoint": CHECKPOINT_FILE, "data": data_summary(dataset),
                   "torch": torch.__version__}
        write_text(self.staging / RUN_FILE, json.dumps(summary, indent=1) + "\n")
        self.log = RunLog((self.staging / LOG_FILE).open("w", encoding="utf-8"), config)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None = None, error: BaseException | None = None,
                 *_: object) -> None:
        if error is not None:  # the folder keeps what it held; the partial run goes
            self.log.stream.close()
            shutil.rmtree(self.staging, ignore_errors=True)
        else:
            self.close_log()

    def close_log(self) -> None:
        """Flush train.log to disk (the manifest vouches for it) and close it."""
        if self.log.stream.closed:
            return
        try:
            self.log.stream.flush()
            os.fsync(self.log.stream.fileno())
        except OSError as error:
            raise failure(self.staging / LOG_FILE, error) from None
        finally:
            with contextlib.suppress(OSError):  # a failed flush is reported above
                self.log.stream.close()

    def update(self, event: Event) -> None:
        """Pass an event to train.log."""
        try:
            self.log.update(event)
        except OSError as error:
            raise failure(self.staging / LOG_FILE, error) from None

    def finish(self, results: RunResults, model: MTLModel, last: LastWeights | None = None) -> None:
        """Save the evaluated weights (none for a diverged run), the last epoch's (with ``last``), results.json and
        the manifest, then swap the complete folder in."""
        self.close_log()
        try:
            if results.status != "diverged":
                save_weights(self.staging / CHECKPOINT_FILE,
                             {name: value.detach().cpu() for name, value in model.state_dict().items()})
            if last is not None:
                last.save(self.staging, results.status)
            write_results(self.staging / RESULTS_FILE, results)
            write_manifest(self.staging, results.status)
            swap_in(self.staging, self.folder)
        except BaseException:  # a full disk, Ctrl-C: the folder keeps what it held
            shutil.rmtree(self.staging, ignore_errors=True)
            raise


def write_manifest(folder: Path, status: str) -> None:
    """manifest.json, written last: every file of the folder with its size and SHA-256, and how the run ended."""
    files = sorted(path for path in folder.rglob("*") if path.is_file())
    entries = {path.relative_to(folder).as_posix(): {"bytes": path.stat().st_size, "sha256": digest(path)}
               for path in files}
    manifest = {"format": RUN_FORMAT, "status": status, "files": entries}
    write_text(folder / MANIFEST_FILE, json.dumps(manifest, indent=1) + "\n")


def digest(path: Path) -> str:
    """The file's SHA-256, read in blocks."""
    sha = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


def portable(config: ExperimentConfig) -> ExperimentConfig:
    """The config with ``data.path`` made absolute, so the run loads from any working folder."""
    if config.data.path is None:
        return config
    data = config.data.model_copy(update={"path": str(Path(config.data.path).resolve())})
    return config.model_copy(update={"data": data})


class RunLog:
    """train.log lines in seed 003's format, one block per epoch, flushed as written (``tail -f`` follows)."""

    def __init__(self, stream: TextIO, config: ExperimentConfig) -> None:
        self.stream, self.epochs = stream, config.train.epochs
        self.selection = Selection(watch_for(config.train.select, config.tasks))  # replays the Trainer's choice

    def update(self, event: Event) -> None:
        """Write the lines of one event."""
        if isinstance(event, RunStarted):
            lines = [started_line(event)]
        elif isinstance(event, EpochEnded):
            improved = self.selection.update(event.epoch, event.val_loss, event.metrics)
            lines = epoch_lines(event, self.epochs)
            if improved and self.selection.watch is not None:
                lines.append(f"✓ New best model! {self.selection.watch.key}={self.selection.best_value_:.4f}")
        else:
            lines = ended_lines(event, self.selection)
        self.stream.write("".join(f"{line}\n" for line in lines))
        self.stream.flush()


def started_line(event: RunStarted) -> str:
    """The first line of train.log."""
    return (f"Run started: tasks {', '.join(event.tasks)}; {event.n_train} train / {event.n_val} val / "
            f"{event.n_test} test rows; {event.n_parameters} parameters; strategy {event.strategy}; "
            f"device {event.device}")


def epoch_lines(event: EpochEnded, epochs: int) -> list[str]:
    """``Epoch e/E``, the train losses (total = plain sum over tasks) and lr, the validation losses and metrics.

    >>> epoch_lines(EpochEnded(2, {"a": 0.5}, {"a": 0.25}, {}, {"a": {"auc": 0.9456}}, 0.1, 0.2, {"lr": 0.01}), 9)
    ['Epoch 2/9', 'train - total_loss: 0.5000 | a_loss: 0.5000 | lr: 0.01', 'val: total_loss: 0.2500 | a_auc: 0.9456']
    """
    train = [f"total_loss: {sum(event.train_loss.values()):.4f}",
             *(f"{task}_loss: {value:.4f}" for task, value in event.train_loss.items())]
    train += [f"{name}: {value:.4g}" for name, value in event.extras.items()]
    lines = [f"Epoch {event.epoch}/{epochs}", "train - " + " | ".join(train)]
    if event.val_loss:
        lines.append("val: " + " | ".join([f"total_loss: {sum(event.val_loss.values()):.4f}",
                                           *metric_items(event.metrics)]))
    return lines


def metric_items(metrics: dict[str, dict[str, float | None]]) -> list[str]:
    """``task_metric: value`` for every metric (4 decimals; n/a where undefined)."""
    return [f"{task}_{name}: {'n/a' if value is None else format(value, '.4f')}"
            for task, values in metrics.items() for name, value in values.items()]


def ended_lines(event: RunEnded, selection: Selection) -> list[str]:
    """How the run ended, the selected epoch, and the test metrics."""
    reason = f": {event.reason}" if event.reason else ""
    lines = [f"Run {event.status}{reason} after {event.epochs_run} epochs ({event.duration_s:.1f} s)"]
    if selection.watch is not None and selection.best_epoch_ is not None and event.status != "diverged":
        lines.append(f"Best epoch: {selection.best_epoch_} ({selection.watch.key}={selection.best_value_:.4f}); "
                     f"its weights were evaluated and saved")
    if event.metrics.get("test"):
        lines.append("test: " + " | ".join(metric_items(event.metrics["test"])))
    return lines


def data_summary(dataset: MTLDataset) -> dict[str, Any]:
    """What must be the same when the run is rebuilt: inputs, split rows, feature checksums, task scales."""
    splits = (dataset.train, dataset.val, dataset.test)
    rows = hashlib.sha256(b"".join(np.asarray(split.rows, dtype=np.int64).tobytes() for split in splits))
    return {
        "source": dataset.source,
        "input_shape": list(dataset.input_shape),
        "feature_columns": list(dataset.feature_columns),
        "split_rows_sha256": rows.hexdigest(),
        "feature_checksums": [checksum(split.features) for split in splits],
        "tasks": {name: {"classes": list(info.classes), "target_mean": info.target_mean,
                         "target_scale": info.target_scale} for name, info in dataset.info.items()},
    }


def checksum(features: Tensor) -> float:
    """Σ_ij x_ij · sin(1 + i + 0.5·j) over the flattened rows: changes with any value, tolerates rounding."""
    flat = features.double().flatten(1)
    i = torch.arange(flat.shape[0], dtype=torch.float64)[:, None]
    j = torch.arange(flat.shape[1], dtype=torch.float64)[None, :]
    return float((flat * torch.sin(1 + i + 0.5 * j)).sum())


def same_summary(stored: Any, rebuilt: Any) -> bool:
    """Equal summaries, numbers to a relative 1e-6 (different CPUs may round sums differently)."""
    if isinstance(stored, dict) and isinstance(rebuilt, dict):
        return stored.keys() == rebuilt.keys() and all(same_summary(stored[k], rebuilt[k]) for k in stored)
    if isinstance(stored, list) and isinstance(rebuilt, list):
        return len(stored) == len(rebuilt) and all(same_summary(a, b) for a, b in zip(stored, rebuilt, strict=True))
    if isinstance(stored, float) or isinstance(rebuilt, float):
        return math.isclose(float(stored), float(rebuilt), rel_tol=1e-6, abs_tol=1e-6)
    return bool(stored == rebuilt)


@dataclass(frozen=True)
class LoadedRun:
    """A run rebuilt from its folder: config, data (split and fitted preprocessor) and the evaluated model."""

    folder: Path
    config: ExperimentConfig
    dataset: MTLDataset
    model: MTLModel  # eval mode, on the CPU


def load_run(folder: str | Path) -> LoadedRun:
    """Rebuild a run from its folder; DataError (one line) when a file is missing, cut short, from another run, or
    the training data has changed."""
    root = Path(folder)
    if not root.is_dir():
        raise DataError(f"run folder {shown_path(root)} is not a folder; give the folder made by "
                        f"python -m mtl_core run CONFIG --run-dir DIR")
    check_complete(root)
    config, dataset = prepare(load_config(root / CONFIG_FILE))
    stored = read_json(root / RUN_FILE)
    if not same_summary(stored.get("data"), data_summary(dataset)):
        raise DataError(f"run folder {shown_path(root)}: the training data ({config.data.source}) is not what the "
                        f"run trained on (its rows, values or task labels differ), so its preprocessing cannot be "
                        f"rebuilt. Restore that data, or train again.")
    model = build_run_model(config, dataset)
    try:
        model.load_state_dict(load_weights(root / CHECKPOINT_FILE))
    except RuntimeError:
        raise CheckpointError(f"run folder {shown_path(root)}: {CHECKPOINT_FILE} does not fit the model its "
                              f"config.toml builds (other names or shapes): the files are from different runs. "
                              f"Train again.") from None
    return LoadedRun(root, config, dataset, model.eval())


def check_complete(root: Path) -> None:
    """DataError unless the folder holds a whole run: each file its manifest lists, byte for byte, and weights."""
    for name in (CONFIG_FILE, RUN_FILE):
        if not (root / name).is_file():
            raise DataError(f"run folder {shown_path(root)} has no {name}: this is not a run folder (made by "
                            f"python -m mtl_core run CONFIG --run-dir DIR), or it was written only in part")
    manifest = read_manifest(root)
    if manifest is not None and manifest.get("status") == "diverged":
        raise DataError(f"run folder {shown_path(root)} holds a run that diverged: it has no weights to predict "
                        f"with. Train again (a lower train.lr, or train.clip_grad_norm).")
    for name, entry in (manifest or {}).get("files", {}).items():
        path = root / str(name)
        inside = not Path(str(name)).is_absolute() and ".." not in Path(str(name)).parts
        if not inside or not path.is_file() or not isinstance(entry, dict) \
                or path.stat().st_size != entry.get("bytes") or digest(path) != entry.get("sha256"):
            raise DataError(f"run folder {shown_path(root)} is not one whole run: {shown_path(name, 80)} is "
                            f"missing, cut short or from another run (it differs from {MANIFEST_FILE}). Train again.")
    if not (root / CHECKPOINT_FILE).is_file():
        raise DataError(f"run folder {shown_path(root)} has no {CHECKPOINT_FILE}: the run diverged or has not "
                        f"finished. Train again.")


def read_manifest(root: Path) -> dict[str, Any] | None:
    """The folder's manifest.json; None for a folder made before manifests (run.json format 1)."""
    if (root / MANIFEST_FILE).is_file():
        manifest = read_json(root / MANIFEST_FILE)
        if isinstance(manifest.get("files"), dict):
            return manifest
    elif read_json(root / RUN_FILE).get("format") == 1:
        return None
    raise DataError(f"run folder {shown_path(root)} has no valid {MANIFEST_FILE}: the run was stopped while its "
                    f"folder was written, or the folder was changed by hand. Train again.")


def read_json(path: Path) -> dict[str, Any]:
    """A JSON object from a run folder's file; DataError (naming the file, never quoting it) when it is not one."""
    try:
        if path.stat().st_size > MAX_JSON_BYTES:
            raise DataError(f"{shown_path(path)} is larger than {MAX_JSON_BYTES:,} bytes: this is not a run folder's "
                            f"file. Train again.")
        values = json.loads(path.read_bytes().decode("utf-8"))
    except OSError as error:
        raise DataError(f"{shown_path(path)} cannot be read: {error.strerror or 'read error'}") from None
    except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        values = None
    if not isinstance(values, dict):
        raise DataError(f"{shown_path(path)} is not the JSON object a run folder holds: it is cut short or "
                        f"corrupt. Train again.")
    return values
