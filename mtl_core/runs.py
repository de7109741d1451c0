"""A run's folder (``python -m mtl_core run CONFIG --run-dir DIR``) and loading it back to predict.

    DIR/config.toml          the resolved config (a relative data.path made absolute)
    DIR/run.json             a summary of the data the run trained on, checked when the run is loaded
    DIR/train.log            one block per epoch, as seed 003 printed them, written as the epochs end
    DIR/checkpoints/best.pt  the weights that were evaluated: a state_dict, ``torch.load(path, weights_only=True)``
    DIR/results.json         the RESULTS.json that ``run --out`` writes

The preprocessing is not pickled. The split and the fitted preprocessor are a pure function of the
config and the data, so ``load_run`` rebuilds them with the code that trained the run (``prepare``)
and checks them against run.json. A pickle would run arbitrary code when loaded and breaks across
scikit-learn versions; the price of rebuilding is that the training data must still be readable
where the config says (built-in and generated data sets always are) and that it is read again.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self, TextIO

import numpy as np
import torch
from torch import Tensor

from mtl_core.config import ExperimentConfig, load_config
from mtl_core.data import MTLDataset
from mtl_core.errors import DataError
from mtl_core.experiment import prepare
from mtl_core.models import MTLModel
from mtl_core.results import RunResults
from mtl_core.train import EpochEnded, Event, RunEnded, RunStarted
from mtl_core.train.selection import Selection, watch_for
from mtl_core.train.trainer import build_run_model

CONFIG_FILE, RUN_FILE, LOG_FILE, RESULTS_FILE = "config.toml", "run.json", "train.log", "results.json"
CHECKPOINT_FILE = "checkpoints/best.pt"
RUN_FORMAT = 1


def write_results(path: Path, results: RunResults | dict[str, Any]) -> None:
    """RESULTS.json (or a comparison's summary): indented, strict JSON (no NaN)."""
    values = results.to_dict() if isinstance(results, RunResults) else results
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(values, indent=1, allow_nan=False) + "\n", encoding="utf-8")


class RunFolder:
    """Writes one run's folder: config and data summary first, train.log as events arrive, weights and results last.

    Use as a context manager so train.log is closed however the run ends.
    """

    def __init__(self, folder: str | Path, config: ExperimentConfig, dataset: MTLDataset) -> None:
        self.folder = Path(folder)
        if self.folder.exists() and not self.folder.is_dir():
            raise DataError(f"--run-dir {str(self.folder)!r} is a file; give a folder (it is created if missing)")
        (self.folder / CHECKPOINT_FILE).parent.mkdir(parents=True, exist_ok=True)
        (self.folder / CONFIG_FILE).write_text(portable(config).to_toml(), encoding="utf-8")
        summary = {"format": RUN_FORMAT, "checkpoint": CHECKPOINT_FILE, "data": data_summary(dataset),
                   "torch": torch.__version__}
        (self.folder / RUN_FILE).write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
        self.log = RunLog((self.folder / LOG_FILE).open("w", encoding="utf-8"), config)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.log.stream.close()

    def update(self, event: Event) -> None:
        """Pass an event to train.log."""
        self.log.update(event)

    def finish(self, results: RunResults, model: MTLModel) -> None:
        """Save the evaluated weights (none for a diverged run) and results.json."""
        checkpoint = self.folder / CHECKPOINT_FILE
        checkpoint.unlink(missing_ok=True)  # a diverged run leaves no weights, not an older run's
        if results.status != "diverged":
            torch.save({name: value.detach().cpu() for name, value in model.state_dict().items()}, checkpoint)
        write_results(self.folder / RESULTS_FILE, results)


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
    """Rebuild a run from its folder; DataError when a file is missing or the training data has changed."""
    root = Path(folder)
    for name in (CONFIG_FILE, RUN_FILE, CHECKPOINT_FILE):
        if not (root / name).is_file():
            raise DataError(f"run folder {str(root)!r} has no {name}: the run diverged or has not finished, or this "
                            f"is not a run folder (made by python -m mtl_core run CONFIG --run-dir {root})")
    config, dataset = prepare(load_config(root / CONFIG_FILE))
    stored = json.loads((root / RUN_FILE).read_text(encoding="utf-8"))
    if not same_summary(stored.get("data"), data_summary(dataset)):
        raise DataError(f"run folder {str(root)!r}: the training data ({config.data.source}) is not what the run "
                        f"trained on (its rows, values or task labels differ), so its preprocessing cannot be "
                        f"rebuilt. Restore that data, or train again.")
    model = build_run_model(config, dataset)
    model.load_state_dict(torch.load(root / CHECKPOINT_FILE, map_location="cpu", weights_only=True))
    return LoadedRun(root, config, dataset, model.eval())
