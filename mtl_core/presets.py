"""Ready-made experiments for the dashboard's one-click presets and for anyone who wants a starting point.

Each preset is a plain config dict (``ExperimentConfig.from_dict`` reads it) with a title and the
question it answers. Each states its learning rate, width and weight decay, so its numbers do not move
when a default does; the weight decay of each was chosen by two-seed runs of the preset with 0 and with
the default 0.03 (the seed keeps its own 0: it is the seed's model). Importing this module loads no data
and no PyTorch, so the first page can list the presets at once.

>>> [preset.key for preset in PRESETS][:2]
['wine-seed', 'wine-gradnorm']
>>> preset("wine-seed").config()["strategy"]
{'name': 'equal'}
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from mtl_core.registry import Registry

__all__ = ["PRESETS", "Preset", "preset"]

_WINE_SPLIT = {"dataset": "wine-red", "test_size": 0.2, "val_size": 0.1, "split_seed": 42}


@dataclass(frozen=True, slots=True)
class Preset:
    """A named experiment: its menu title, the question it answers, and the settings that ask it."""

    key: str
    title: str
    question: str
    values: dict[str, Any]

    def config(self) -> dict[str, Any]:
        """A fresh copy of the preset's config dict, safe to change."""
        return copy.deepcopy(self.values)


PRESETS: tuple[Preset, ...] = (
    Preset(
        "wine-seed", "The seed: wine quality, two heads",
        "One shared 64-64 network predicts red wine quality as a score and as good/not good, with the two "
        "losses simply added. Does the regression head help the classifier? (Compare it against training "
        "each task alone: it often does not.)",
        {"data": dict(_WINE_SPLIT, val_size=0.0, stratify=False),
         "tasks": [{"name": "quality", "column": "quality", "kind": "regression", "loss": "mse"},
                   {"name": "good", "column": "quality", "kind": "binary", "threshold": 6, "loss": "bce"}],
         "model": {"architecture": "hps", "hidden": [64, 64]},
         "strategy": {"name": "equal"},
         "train": {"epochs": 100, "batch_size": 0, "lr": 0.01, "weight_decay": 0.0, "optimizer": "adam", "seed": 0}},
    ),
    Preset(
        "wine-gradnorm", "Loss scales clash: wine with GradNorm",
        "Total sulfur dioxide (tens to hundreds of mg/l, an MSE in the thousands) and good/not good "
        "(a cross-entropy near 0.7) share one network: summed, the big loss dominates the shared layers. GradNorm "
        "(Chen et al., 2018) learns weights that keep both tasks training at the same rate. Watch the weights, "
        "then try equal weighting or uncertainty: does balancing the gradients change the test metrics?",
        {"data": dict(_WINE_SPLIT),
         "tasks": [{"name": "sulfur", "column": "total sulfur dioxide", "kind": "regression", "loss": "mse"},
                   {"name": "good", "column": "quality", "kind": "binary", "threshold": 6, "loss": "bce"}],
         "model": {"architecture": "hps", "hidden": [64, 64]},
         "strategy": {"name": "gradnorm", "alpha": 1.5},
         "train": {"epochs": 200, "batch_size": 0, "lr": 0.01, "weight_decay": 0.03, "optimizer": "adam", "seed": 0}},
    ),
    Preset(
        "mmoe-correlation", "Correlated vs unrelated tasks (MMoE synthetic)",
        "Two regression tasks whose relatedness you set with data.params.correlation (Ma et al., 2018). "
        "Mixture-of-experts gates let unrelated tasks use different experts; lower the correlation and "
        "compare against hard sharing (architecture hps).",
        {"data": {"dataset": "mmoe-synthetic", "params": {"correlation": 0.5, "n_rows": 4000}},
         "model": {"architecture": "mmoe", "hidden": [16], "n_experts": 4},
         "strategy": {"name": "equal"},
         "train": {"epochs": 30, "batch_size": 128, "lr": 0.003, "weight_decay": 0.03, "optimizer": "adam",
                   "seed": 0}},
    ),
    Preset(
        "cells-cnn", "Cells: image + time (CNN)",
        "From one synthetic cell image, is the culture infected, and how many hours has it been? A small "
        "residual CNN is shared by a classification head and a time regression head; the kept model is the "
        "epoch with the best validation AUC.",
        {"data": {"dataset": "cells-synthetic", "params": {"n_images": 600}},
         "tasks": [{"name": "infected", "column": "infected", "kind": "binary", "loss": "bce"},
                   {"name": "time", "column": "time", "kind": "regression", "loss": "smooth_l1",
                    "standardize": True}],
         "model": {"architecture": "hps", "trunk": "cnn", "channels": [8, 16], "blocks": 1},
         "strategy": {"name": "static", "weights": [1.0, 1.0]},
         "train": {"epochs": 12, "batch_size": 64, "lr": 0.005, "weight_decay": 0.03, "optimizer": "adam",
                   "scheduler": "cosine",
                   "select": "infected.auc", "seed": 0, "threads": 1}},
    ),
    Preset(
        "digits-three", "Digits: three tasks from one image",
        "Which digit, is it even, is it 5 or more: three classification tasks read the same 8×8 image "
        "through one small CNN. The two easy binary tasks ride on what the 10-class task learns.",
        {"data": {"dataset": "digits", "params": {"images": True}},
         "model": {"architecture": "hps", "trunk": "cnn", "channels": [16, 32], "blocks": 1},
         "strategy": {"name": "equal"},
         "train": {"epochs": 10, "batch_size": 64, "lr": 0.003, "weight_decay": 0.0, "optimizer": "adam", "seed": 0,
                   "threads": 1}},
    ),
)


_BY_KEY = Registry[Preset]("preset")
for _item in PRESETS:
    _BY_KEY.register(_item.key)(_item)


def preset(key: str) -> Preset:
    """The preset with this key; an unknown key raises UnknownNameError naming the closest keys."""
    return _BY_KEY.get(key)
