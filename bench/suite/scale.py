"""Scale: epoch time and peak memory as the rows grow 10^3 → 10^6, the tasks 2 → 32 and the hidden width, and one
thread against two; the growth exponents (log-log slopes) of rows and tasks; curves in docs/scaling_curves.html.

Each point is a process of its own (``bench.suite.scale_point``) reading a generated CSV through the engine's
data path, so that its peak memory (that process's own high-water mark) is not another point's. The data path's
peak is the child's peak minus its resident memory just before loading (torch and the engine imported), set
against the table's in-memory size (rows × columns × 8 bytes of float64).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench.suite.options import Options, Progress
from bench.suite.records import machine_text, record
from bench.suite.timing import growth_exponent

SECTION = "## Scale: rows, tasks, width, threads"
FEATURES = 8
MEMORY_TARGET = 2.0  # the data path's peak ≤ 2 × the table in memory
FULL = {"rows": (1_000, 10_000, 100_000, 1_000_000), "tasks": (2, 4, 8, 16, 32), "widths": (32, 128, 512, 1024),
        "task_rows": 20_000, "thread_rows": 100_000, "batch": 1024, "epochs": 2, "hidden": 128, "one_process": False}
QUICK = {"rows": (1_000, 3_000), "tasks": (2, 4), "widths": (), "task_rows": 1_000, "thread_rows": 0,
         "batch": 256, "epochs": 1, "hidden": 32, "one_process": True}
LIMITS = {"MTL_MAX_CELLS": "100000000", "MTL_MAX_UPLOAD_MB": "4000"}  # a 10-column table of 10^6 rows passes


def write_table(path: Path, rows: int, tasks: int, seed: int = 0) -> int:
    """A CSV of ``FEATURES`` Gaussian features and ``tasks`` noisy linear targets; returns its in-memory bytes."""
    generator = np.random.default_rng(seed)
    features = generator.standard_normal((rows, FEATURES), dtype=np.float32).astype(np.float64)
    weights = generator.standard_normal((FEATURES, tasks))
    targets = features @ weights + 0.1 * generator.standard_normal((rows, tasks))
    table = pd.DataFrame(np.hstack([features, targets]),
                         columns=[f"x{i}" for i in range(FEATURES)] + [f"y{i}" for i in range(tasks)])
    table.to_csv(path, index=False, float_format="%.6g")
    return int(table.memory_usage(index=True, deep=True).sum())


def run_points(points: list[dict[str, Any]]) -> Any:
    """The child's measurements: for one point (a dict), or for a list of points in one child (quick)."""
    threads = points[0]["threads"] if isinstance(points, list) else points["threads"]
    environment = {**os.environ, **LIMITS, "OMP_NUM_THREADS": str(threads)}
    done = subprocess.run([sys.executable, "-m", "bench.suite.scale_point", json.dumps(points)], capture_output=True,
                          text=True, env=environment, check=False, timeout=1800)
    if done.returncode != 0:
        raise RuntimeError(f"scale point {points} failed: {done.stderr.strip().splitlines()[-3:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def series(folder: Path, sizes: dict[str, Any], progress: Progress, device: str) -> list[dict[str, Any]]:
    """Every point: (series, x, table bytes) with the child's numbers."""
    base = {"features": FEATURES, "batch": sizes["batch"], "epochs": sizes["epochs"], "hidden": sizes["hidden"],
            "threads": 1, "tasks": 2, "device": device}
    plan: list[tuple[str, int, Path, int, dict[str, Any]]] = []
    tables: dict[tuple[int, int], tuple[Path, int]] = {}

    def table(rows: int, tasks: int) -> tuple[Path, int]:
        if (rows, tasks) not in tables:
            path = folder / f"table_{rows}_{tasks}.csv"
            tables[(rows, tasks)] = (path, write_table(path, rows, tasks))
        return tables[(rows, tasks)]
    for rows in sizes["rows"]:
        plan.append(("rows", rows, *table(rows, 2), {}))
    for tasks in sizes["tasks"]:
        plan.append(("tasks", tasks, *table(sizes["task_rows"], max(sizes["tasks"])), {"tasks": tasks}))
    for width in sizes["widths"]:
        plan.append(("width", width, *table(sizes["task_rows"], 2), {"hidden": width}))
    if sizes["thread_rows"]:
        for threads in (1, 2):
            plan.append(("threads", threads, *table(sizes["thread_rows"], 2), {"threads": threads}))
    settings = [{**base, **changes, "csv": str(path)} for _, _, path, _, changes in plan]
    if sizes["one_process"]:  # quick: one child for every point (its memory figures then mean little)
        progress(f"scale: {len(plan)} points in one process ({device})")
        results = run_points(settings)
    else:
        results = []
        for (name, x, *_), point in zip(plan, settings, strict=True):
            progress(f"scale {name}={x} ({device})")
            results.append(run_points(point))
    return [{"series": name, "x": x, "table_bytes": table_bytes, "point": point, **result}
            for (name, x, _, table_bytes, _), point, result in zip(plan, settings, results, strict=True)]


def to_records(points: list[dict[str, Any]], device: str) -> list[dict[str, Any]]:
    out = []
    for item in points:
        parameters = {"series": item["series"], "x": item["x"], "rows": item["train_rows"],
                      "tasks": item["point"]["tasks"], "hidden": item["point"]["hidden"],
                      "threads": item["point"]["threads"], "batch": item["point"]["batch"]}
        clock = "epoch_wall_s" if item["series"] == "threads" else "epoch_cpu_s"
        out.append(record("scale_epoch", {**parameters, "clock": clock.split("_")[1]}, item[clock], "s/epoch",
                          device=device))
        data_path = item["peak_after_load"] - item["rss_before"]
        out.append(record("scale_memory", parameters, data_path, "bytes", item["table_bytes"], device=device))
        out.append(record("scale_peak_rss", parameters, item["peak"], "bytes", device=device))
    for name in ("rows", "tasks"):
        chosen = [item for item in points if item["series"] == name and (name != "rows" or item["x"] >= 10_000)]
        if len(chosen) >= 2:
            slope = growth_exponent([item["x"] for item in chosen], [item["epoch_cpu_s"] for item in chosen])
            out.append(record("scale_exponent", {"series": name, "from": chosen[0]["x"], "to": chosen[-1]["x"]},
                              slope, "log-log slope", device=device))
    return out


def measure_on(device: str, options: Options, progress: Progress) -> list[dict[str, Any]]:
    sizes = QUICK if options.quick else FULL
    with tempfile.TemporaryDirectory() as folder:
        points = series(Path(folder), sizes, progress, device)
    out = to_records(points, device)
    if options.scaling_html is not None and device == "cpu":
        from bench.suite.scale_doc import write_curves
        write_curves(out, options.scaling_html)
    return out


def measure(options: Options, progress: Progress) -> list[dict[str, Any]]:
    return measure_on("cpu", options, progress)


def section(records: list[dict[str, Any]], options: Options) -> str:
    from bench.suite.scale_doc import scale_section
    return scale_section(records, FULL, SECTION, MEMORY_TARGET, machine_text)
