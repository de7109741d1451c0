"""The leaderboard's runs: every strategy on every built-in data set over seeds, with the single-task baseline and
a boosted tree per task as context, cached per (data set, method, seed) so that a stopped run resumes.

Every run of a data set gets the same budget: the config a new user gets for that set (its default tasks, hps
128→128, Adam at the default learning rate) with the set's epochs and batch size (``EPOCHS``), one torch thread.
The data set is prepared once per set; the seeds of one method train together (``train_together``), as
``python -m mtl_core compare`` trains them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn import metrics as skm
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

from mtl_core.compare.runs import STL, baseline_config, strategy_config, with_seed
from mtl_core.config import ExperimentConfig
from mtl_core.data.dataset import MTLDataset
from mtl_core.errors import MTLError
from mtl_core.experiment import collect_results, prepare, resolve
from mtl_core.train import Trainer, together_reason, train_together
from mtl_core.weighting import available

SETS: dict[str, dict[str, Any]] = {  # the small tables first, so that a stopped run has covered the most sets
    "wine-red": {"dataset": "wine-red"},
    "diabetes": {"dataset": "diabetes"},
    "tips": {"dataset": "tips"},
    "digits": {"dataset": "digits"},
    "cells-synthetic": {"dataset": "cells-synthetic"},
    "wine": {"dataset": "wine"},
    "mmoe-synthetic": {"dataset": "mmoe-synthetic", "params": {"correlation": 0.5}},
}
# (epochs, batch size; 0 = full batch) per set: about the same work per set, mini-batches on the larger tables
EPOCHS: dict[str, tuple[int, int]] = {
    "wine-red": (100, 0), "wine": (10, 512), "diabetes": (100, 0), "tips": (100, 0), "digits": (100, 0),
    "mmoe-synthetic": (8, 512), "cells-synthetic": (40, 0),
}
TREE = "hgb"  # scikit-learn HistGradientBoosting, one model per task
DEFAULT_CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "mtl-lab" / "bench"
Progress = Callable[[str], None]


@dataclass(frozen=True)
class Budget:
    """What every run of the leaderboard gets: epochs and batch size (None: each set's ``EPOCHS``), seeds, and the
    data sets and methods it covers."""

    epochs: int | None = None
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    sets: tuple[str, ...] = tuple(SETS)
    strategies: tuple[str, ...] = ()  # empty: every registered strategy

    def methods(self) -> tuple[str, ...]:
        """The single-task baseline, every strategy, and the boosted tree."""
        return (STL, *(self.strategies or tuple(available())), TREE)

    def training(self, data_set: str) -> tuple[int, int]:
        """(epochs, batch size) of the runs on ``data_set``."""
        epochs, batch = EPOCHS[data_set]
        return (self.epochs, batch) if self.epochs is not None else (epochs, batch)

    def label(self, data_set: str) -> str:
        """The set with the settings that change its results (the cache is keyed by it)."""
        epochs, batch = self.training(data_set)
        return f"{data_set}|e{epochs}b{batch}"


def set_config(name: str, budget: Budget) -> ExperimentConfig:
    """The config every method of data set ``name`` starts from: its defaults, the budget's epochs and batch size,
    one thread."""
    epochs, batch = budget.training(name)
    return ExperimentConfig.from_dict({"data": SETS[name], "train": {"epochs": epochs, "batch_size": batch,
                                                                     "threads": 1}})


class Cache:
    """Results per (data set, method, seed) in one JSON file, rewritten whole (atomically) after each group."""

    def __init__(self, folder: Path, budget: Budget) -> None:
        self.budget = budget
        self.path = Path(folder) / "leaderboard.json"
        self.entries: dict[str, dict[str, Any]] = (
            json.loads(self.path.read_text(encoding="utf-8")) if self.path.is_file() else {})

    def key(self, data_set: str, method: str, seed: int) -> str:
        return f"{self.budget.label(data_set)}/{method}/{seed}"

    def get(self, data_set: str, method: str, seed: int) -> dict[str, Any] | None:
        return self.entries.get(self.key(data_set, method, seed))

    def put(self, items: Iterable[tuple[str, str, int, dict[str, Any]]]) -> None:
        for data_set, method, seed, entry in items:
            self.entries[self.key(data_set, method, seed)] = entry
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_suffix(".json.partial")
        partial.write_text(json.dumps(self.entries, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(partial, self.path)


def run(budget: Budget, cache: Cache, progress: Progress | None = None) -> None:
    """Train whatever the cache lacks, one (data set, method) group of seeds at a time."""
    for data_set in budget.sets:
        config, dataset = None, None
        for method in budget.methods():
            missing = [seed for seed in budget.seeds if cache.get(data_set, method, seed) is None]
            if progress is not None:
                progress(f"{data_set} {method}")
            if not missing:
                continue
            if config is None:
                config, dataset = prepare(set_config(data_set, budget))
            entries = run_method(config, dataset, method, missing)
            cache.put((data_set, method, seed, entry) for seed, entry in zip(missing, entries, strict=True))


def run_method(config: ExperimentConfig, dataset: MTLDataset, method: str,
               seeds: Sequence[int]) -> list[dict[str, Any]]:
    """One cache entry per seed: status, reason, test metrics, duration."""
    if method == TREE:
        return [tree_entry(dataset, seed) for seed in seeds]
    group = baseline_config(config) if method == STL else strategy_config(config, method)
    configs = [resolve(with_seed(group, seed)) for seed in seeds]
    try:
        if together_reason(configs) is None:  # as run_together, on the data set prepared once for the set
            histories = train_together([Trainer(item, dataset) for item in configs])
        else:
            histories = [Trainer(item, dataset).run() for item in configs]
        results = [collect_results(item, events) for item, events in zip(configs, histories, strict=True)]
    except MTLError as error:  # a method that refuses this data set is a result of the leaderboard
        return [{"status": "refused", "reason": str(error), "test": {}, "duration_s": None} for _ in seeds]
    return [{"status": item.status, "reason": item.reason, "test": item.metrics.get("test", {}),
             "duration_s": item.duration_s} for item in results]


def tree_entry(dataset: MTLDataset, seed: int) -> dict[str, Any]:
    """HistGradientBoosting per task on the engine's own split and preprocessed features (fitted on train rows)."""
    test: dict[str, dict[str, float]] = {}
    for task in dataset.tasks:
        info = dataset.info[task.name]
        train_x, train_y = _rows(dataset.train, task.name)
        test_x, test_y = _rows(dataset.test, task.name)
        if info.kind == "regression":
            model = HistGradientBoostingRegressor(random_state=seed).fit(train_x, train_y)
            true = test_y * info.target_scale + info.target_mean
            pred = model.predict(test_x) * info.target_scale + info.target_mean
            test[task.name] = {"mse": float(skm.mean_squared_error(true, pred)),
                               "mae": float(skm.mean_absolute_error(true, pred)), "r2": float(skm.r2_score(true, pred))}
            test[task.name]["rmse"] = float(np.sqrt(test[task.name]["mse"]))
        else:
            model = HistGradientBoostingClassifier(random_state=seed).fit(train_x, train_y.astype(int))
            test[task.name] = {"accuracy": float(skm.accuracy_score(test_y.astype(int), model.predict(test_x)))}
    return {"status": "completed", "reason": None, "test": test, "duration_s": None}


def _rows(split: Any, task: str) -> tuple[np.ndarray, np.ndarray]:
    """The split's labelled rows for one task, features flattened (images become pixel columns)."""
    mask = split.masks[task].numpy()
    features = split.features.reshape(len(split.features), -1).numpy()
    return features[mask], split.targets[task].numpy()[mask].astype(float)


def budget_text(budget: Budget) -> dict[str, Any]:
    """The budget as plain values, for the doc and the JSON."""
    return {**asdict(budget), "methods": list(budget.methods())}
