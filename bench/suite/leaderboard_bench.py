"""The leaderboard as a member of the suite: run what the cache lacks, then write docs/leaderboard.md."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import torch

from bench.suite.leaderboard import DEFAULT_CACHE, SETS, Budget, Cache, run
from bench.suite.leaderboard_doc import markdown, records, summarise
from bench.suite.options import Options, Progress
from bench.suite.records import machine, machine_text

QUICK = Budget(epochs=2, seeds=(0, 1), sets=("tips",), strategies=("equal", "pcgrad"))


def budget_for(options: Options) -> Budget:
    if options.quick:
        return QUICK
    return Budget(epochs=options.epochs, seeds=tuple(range(options.seeds)), sets=options.sets or tuple(SETS))


def command_for(options: Options, budget: Budget) -> str:
    parts = ["python -m bench --only leaderboard"]
    if budget.epochs is not None:
        parts.append(f"--epochs {budget.epochs}")
    if len(budget.seeds) != len(Budget().seeds):
        parts.append(f"--seeds {len(budget.seeds)}")
    if options.sets:
        parts.append("--sets " + " ".join(options.sets))
    return " ".join(parts)


def measure(options: Options, progress: Progress) -> list[dict[str, Any]]:
    """Train what the cache lacks, summarise, write the doc when asked; the records of the summary."""
    torch.set_num_threads(1)
    budget = budget_for(options)
    with tempfile.TemporaryDirectory() as scratch:
        folder = options.cache or (Path(scratch) if options.quick else DEFAULT_CACHE)
        cache = Cache(folder, budget)
        progress(f"leaderboard: cache {cache.path}")
        run(budget, cache, progress)
        summary = summarise(budget, cache)
    if options.leaderboard_doc is not None:
        info = machine()
        options.leaderboard_doc.parent.mkdir(parents=True, exist_ok=True)
        options.leaderboard_doc.write_text(markdown(summary, command_for(options, budget), machine_text(info)),
                                           encoding="utf-8")
    return records(summary)
