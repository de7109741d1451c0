"""The earlier stand-alone benchmarks as members of the suite, through their own public functions (their modules
keep their ``python -m bench.NAME`` entry points and options): compare_speed, mmoe_trend, dashboard, store_list,
load. The member's name is in ``options.extra["member"]``.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from bench.suite.options import Options, Progress
from bench.suite.records import record
from mtl_core.errors import MTLError


def measure(options: Options, progress: Progress) -> list[dict[str, Any]]:
    name = options.extra["member"]
    options.extra.pop(f"section:{name}", None)
    return MEASURES[name](options, progress)


def section(records: list[dict[str, Any]], options: Options) -> str | None:
    if options.quick:
        return None  # shrunk runs: their prose would misstate the settings
    return options.extra.get(f"section:{options.extra['member']}")


def compare_speed(options: Options, progress: Progress) -> list[dict[str, Any]]:
    from bench import compare_speed as bench_module
    from mtl_core.config import load_config
    from mtl_core.experiment import resolve

    torch.set_num_threads(1)
    try:
        config = resolve(load_config(bench_module.CONFIG))
        if options.quick:
            config = config.with_overrides(["train.epochs=3"])
        seeds, repeats, naive = (2, 1, 0) if options.quick else (5, 5, 1)
        progress("compare_speed")
        results = bench_module.measure(config, seeds, repeats, naive)
    except MTLError as error:  # the wine files are not available here
        return [record("compare_speed", {"error": str(error).split(".")[0]}, None, "×")]
    options.extra["section:compare_speed"] = bench_module.section(
        results, config, seeds, "python -m bench --only compare_speed", bench_module.machine())
    out = [record("compare_speed", {"what": "(a) one multi-task run"}, statistics.median(results["s a"]), "s")]
    for key in bench_module.KEYS:
        if results[f"wall {key}"]:
            out.append(record("compare_speed", {"what": bench_module.LABELS[key], "clock": "wall", "seeds": seeds},
                              statistics.median(results[f"s {key}"]), "s", statistics.median(results["s a"]),
                              statistics.median(results[f"wall {key}"])))
    return out


def mmoe_trend(options: Options, progress: Progress) -> list[dict[str, Any]]:
    from bench import mmoe_trend as bench_module

    torch.set_num_threads(1)
    if options.quick:  # one short run of each architecture: checks the benchmark runs
        return [record("mmoe_trend", {"architecture": name, "epochs": 1, "correlation": 0.5, "task": task},
                       mse, "mse")
                for name, model in bench_module.models().items()
                for task, mse in bench_module.run_mse(model, 0.5, 0, 1).items()]
    started = time.perf_counter()
    progress("mmoe_trend")
    results = bench_module.run_all(5)
    options.extra["section:mmoe_trend"] = bench_module.render(results, 5, time.perf_counter() - started)
    out = []
    for (epochs, correlation, name), per_task in results.items():
        hps = results[epochs, correlation, "hps"]
        for task, values in per_task.items():
            out.append(record("mmoe_trend", {"architecture": name, "epochs": epochs, "correlation": correlation,
                                             "task": task}, statistics.fmean(values), "mse",
                              statistics.fmean(hps[task])))
    return out


def dashboard(options: Options, progress: Progress) -> list[dict[str, Any]]:
    from bench import dashboard as bench_module

    trainings = [("wine-seed", 3000, None), ("wine-seed", 3000, 1), ("wine-seed", 3000, 2), ("digits-three", 40, None),
                 ("digits-three", 40, 2)]
    progress("dashboard (browser)")
    results = bench_module.measure(8, trainings, 10)
    options.extra["section:dashboard"] = bench_module.report(results, "python -m bench --only dashboard")
    out = [record("dashboard_startup", {"repeat": index}, drawn, "s", healthy)  # to the Home page drawn
           for index, (healthy, drawn) in enumerate(results["starts"])]
    for key, _, ui, cli in results["speeds"]:
        out.append(record("dashboard_training", {"preset": key}, statistics.median(ui), "epochs/s",
                          statistics.median(cli)))
    out.append(record("dashboard_click", {"clicks": len(results["latencies"])}, statistics.median(results["latencies"]),
                      "s"))
    return out


def store_list(options: Options, progress: Progress) -> list[dict[str, Any]]:
    from bench import store_list as bench_module
    from mtl_core.store import RunStore

    count, epochs, repeats = 10_000, 5, 21
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "runs.sqlite"
        progress("store_list: filling")
        fill_s = bench_module.fill(RunStore(path), count, epochs)
        size_mb = sum(file.stat().st_size for file in Path(folder).glob("runs.sqlite*")) / 1e6
        results = bench_module.measure(path, count, repeats, False)
    options.extra["section:store_list"] = bench_module.section(count, epochs, fill_s, size_mb, results,
                                                               "python -m bench.store_list")
    return [record("store_list", {"what": label}, statistics.median(values), "s") for label, values in results.items()]


def load(options: Options, progress: Progress) -> list[dict[str, Any]]:
    from bench import load as bench_module

    progress("load (browser sessions)")
    with tempfile.TemporaryDirectory() as folder:
        out_file = Path(folder) / "load.json"
        bench_module.main(["--out", str(out_file)])
        figures = json.loads(out_file.read_text(encoding="utf-8")) if out_file.is_file() else {}
    return [record("load", {"figure": key}, float(value), "") for key, value in figures.items()
            if isinstance(value, (int, float)) and not isinstance(value, bool)]


MEASURES = {"compare_speed": compare_speed, "mmoe_trend": mmoe_trend, "dashboard": dashboard,
            "store_list": store_list, "load": load}
