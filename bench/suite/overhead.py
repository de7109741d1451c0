"""Engine overhead: an epoch of the ``Trainer`` (strategy ``equal``) against an epoch of a hand-written PyTorch loop
with the same model, the same initial weights, the same batches and the same optimiser.

The Trainer's epoch is one step of its event generator: the training steps, the epoch's validation loss and
metrics, the EpochEnded event, and, with the store on, the event written to a run store (SQLite, in a
temporary folder) as ``python -m mtl_core run`` stores it. The hand loop does the training steps only
(forward, Σ_t MSE_t, backward, Adam), which is what the engine's extras are measured against.
"""

from __future__ import annotations

import math
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from bench.suite.options import Options, Progress
from bench.suite.records import machine, machine_text, record
from bench.suite.timing import Clock, Timing, interleaved
from mtl_core.config import ExperimentConfig
from mtl_core.data.dataset import MTLDataset
from mtl_core.experiment import prepare
from mtl_core.store import RunStore
from mtl_core.train import Trainer
from mtl_core.train.trainer import build_run_model

SECTION = "## Engine overhead"
TARGET = 1.05
FULL = {"rows": 10_000, "batch": 256, "warmup": 2, "repeats": 40}
QUICK = {"rows": 600, "batch": 128, "warmup": 1, "repeats": 2}
VARIANTS = ((True, True), (False, True), (False, False))  # (store, validation rows scored each epoch)


def experiment(rows: int, batch: int, epochs: int, validation: bool = True,
               device: str = "cpu") -> tuple[ExperimentConfig, MTLDataset]:
    """mmoe-synthetic (2 regression tasks, 100 features), hps 128→128, equal, Adam, mini-batches, one thread;
    without ``validation`` no validation rows (``data.val_size = 0``), so the Trainer scores nothing per epoch."""
    return prepare(ExperimentConfig.from_dict({
        "data": {"dataset": "mmoe-synthetic", "params": {"correlation": 0.5, "n_rows": rows},
                 "val_size": 0.1 if validation else 0.0},
        "model": {"architecture": "hps", "hidden": [128, 128]}, "strategy": {"name": "equal"},
        "train": {"epochs": epochs, "batch_size": batch, "threads": torch.get_num_threads(), "device": device}}))


def trainer_epochs(config: ExperimentConfig, dataset: MTLDataset,
                   store: RunStore | None) -> tuple[Callable[[], None], torch.nn.Module]:
    """A call that trains one more epoch of the Trainer's run (and stores its event when ``store`` is given), and
    the Trainer's model (its initial weights are the hand loop's)."""
    trainer = Trainer(config, dataset)
    events = trainer.run()
    record_event = store.recorder(store.start_run(config)) if store is not None else (lambda event: None)
    record_event(next(events))  # RunStarted

    def epoch() -> None:
        record_event(next(events))
    return epoch, trainer.model


def hand_epochs(config: ExperimentConfig, dataset: MTLDataset, initial: dict[str, torch.Tensor]) -> Callable[[], None]:
    """One call: one epoch of a plain loop over the same shuffled batches (same generator seed as the Trainer),
    then, when the split has validation rows, their scoring as one would write it by hand: the validation loss and
    mse, rmse, mae, r² per task in numpy (the cheapest honest way, so the ratio is not flattered)."""
    model = build_run_model(config, dataset)
    model.load_state_dict(initial)
    model.to(dataset.train.features.device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.train.lr, weight_decay=config.train.weight_decay)
    shuffle = torch.Generator().manual_seed(config.train.seed + 2)
    features, targets = dataset.train.features, dataset.train.targets
    batch = config.train.batch_size

    def epoch() -> None:
        model.train()
        order = torch.randperm(len(features), generator=shuffle)
        for start in range(0, len(features), batch):
            rows = order[start:start + batch]
            outputs = model(features[rows])
            loss = sum(F.mse_loss(outputs[name].reshape(-1), targets[name][rows]) for name in targets)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()  # type: ignore[union-attr]
            optimizer.step()
        if len(dataset.val) > 0:
            hand_validation(model, dataset)
    return epoch


def hand_validation(model: torch.nn.Module, dataset: MTLDataset) -> dict[str, dict[str, float]]:
    """The validation loss and regression metrics (original units) of every task, written by hand."""
    model.eval()
    with torch.no_grad():
        outputs = model(dataset.val.features)
    model.train()
    scores = {}
    for name, target in dataset.val.targets.items():
        info, output = dataset.info[name], outputs[name].reshape(-1)
        loss = float(F.mse_loss(output, target))
        true = target.numpy().astype(float) * info.target_scale + info.target_mean
        errors = true - (output.numpy().astype(float) * info.target_scale + info.target_mean)
        mse = float(np.mean(errors ** 2))
        scores[name] = {"loss": loss, "mse": mse, "rmse": math.sqrt(mse), "mae": float(np.mean(np.abs(errors))),
                        "r2": 1.0 - float(np.sum(errors ** 2) / np.sum((true - true.mean()) ** 2))}
    return scores


def measure_one(store_on: bool, validation: bool, sizes: dict[str, int], clock: Clock) -> Timing:
    """Trainer epochs vs hand-loop epochs, and a second hand loop as the noise copy."""
    epochs = sizes["warmup"] + sizes["repeats"] + 1
    config, dataset = experiment(sizes["rows"], sizes["batch"], epochs, validation)
    with tempfile.TemporaryDirectory() as folder:
        store = RunStore(Path(folder) / "runs.db") if store_on else None
        try:
            trainer, model = trainer_epochs(config, dataset, store)
            initial = {name: value.detach().clone() for name, value in model.state_dict().items()}
            hand, copy = hand_epochs(config, dataset, initial), hand_epochs(config, dataset, initial)
            return interleaved(trainer, hand, copy, sizes["warmup"], sizes["repeats"], clock)
        finally:
            if store is not None:
                store.close()


def measure(options: Options, progress: Progress) -> list[dict[str, Any]]:
    sizes = QUICK if options.quick else FULL
    out = []
    for store_on, validation in VARIANTS:
        clocks = (("cpu", time.thread_time), ("wall", time.perf_counter))
        for clock_name, clock in clocks[:1] if options.quick else clocks:
            progress(f"store {'on' if store_on else 'off'}, validation {'on' if validation else 'off'}, {clock_name}")
            timing = measure_one(store_on, validation, sizes, clock)
            parameters = {"store": store_on, "validation": validation, "clock": clock_name, **sizes, "tasks": 2,
                          "hidden": "128x128"}
            out.append(record("overhead", parameters, timing.median, "s/epoch", timing.baseline_median, timing.ratio))
            out.append(record("overhead_noise", parameters, statistics.median(timing.copy), "s/epoch",
                              timing.baseline_median, timing.noise))
    return out


def section(records: list[dict[str, Any]], options: Options) -> str:
    """The doc section: a row per (store, clock): Trainer / hand loop, and the hand loop's copy / hand loop."""
    noise = {_key(r): r for r in records if r["name"] == "overhead_noise"}
    lines = [SECTION, "",
             "An epoch of the `Trainer` (strategy `equal`) divided by an epoch of a hand-written PyTorch loop with the "
             "same model, initial weights, batches (the same shuffle generator) and optimiser (Adam, same lr and "
             "weight decay): `mmoe-synthetic` (p = 0.5, "
             f"{FULL['rows']:,} rows, 2 regression tasks, 100 features), hps 128→128, batch {FULL['batch']}, one "
             f"torch thread. {FULL['warmup']} warm-up epochs, then the median of {FULL['repeats']} epochs of each, the "
             "Trainer, the hand loop and a second identical hand loop interleaved (who goes first rotates). The "
             "Trainer's epoch includes what the engine adds: the EpochEnded event, the epoch's tally, the finite "
             "checks, keeping the best epoch's weights and, with the store on, writing the event to a run store "
             "(SQLite in a temporary folder, as `python -m mtl_core run` stores runs). With validation rows the hand "
             "loop scores them too, as one would by hand (validation loss, mse, rmse, mae and r² per task in numpy, "
             "the cheapest honest way); the Trainer scores them with its own metrics code. CPU time is the thread's "
             "(`time.thread_time`, which other processes do not inflate, but which misses time spent waiting for the "
             "disk); wall time includes the SQLite commits' waits. The last rows have no validation rows "
             "(`data.val_size = 0`): what remains is the training step itself (the per-task losses, the finite "
             f"check, the epoch's tally). Target: ≤ {TARGET}×. On this shared virtual machine one epoch's time "
             "moves by ±30 % from one epoch to the next (the same loop, alone), so a ratio is only as good as its "
             "noise row: the hand loop's identical copy against the hand loop.", "",
             f"Machine: {machine_text(records[0]['machine'] if records else machine())}.", "",
             "Reproduce: `python -m bench --only overhead`", "",
             "| store | validation | clock | Trainer epoch | hand-loop epoch | Trainer / hand loop | "
             "noise: hand loop copy / hand loop | target |",
             "|---|---|---|---:|---:|---:|---:|---|"]
    for item in records:
        if item["name"] != "overhead":
            continue
        key = _key(item)
        copy = noise[key]["ratio"]
        lines.append(f"| {'on' if key[0] else 'off'} | {'on' if key[1] else 'off'} | {key[2]} | "
                     f"{item['value'] * 1000:.1f} ms | "
                     f"{item['baseline'] * 1000:.1f} ms | {item['ratio']:.3f}× | "
                     f"{'—' if copy is None else f'{copy:.3f}×'} | "
                     f"{'met' if item['ratio'] <= TARGET else 'not met'} |")
    return "\n".join(lines) + "\n"


def _key(item: dict[str, Any]) -> tuple[bool, bool, str]:
    parameters = item["parameters"]
    return parameters["store"], parameters.get("validation", True), parameters["clock"]
