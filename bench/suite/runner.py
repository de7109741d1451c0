"""The suite's members, run one after another under a progress bar; their records and doc sections."""

from __future__ import annotations

import importlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tqdm import tqdm

from bench.suite.options import Options


@dataclass(frozen=True)
class Member:
    """A benchmark of the suite: ``module.measure(options, progress) -> records`` and, optionally,
    ``module.section(records, options) -> str`` (a section of docs/benchmarks.md, heading first)."""

    name: str
    module: str
    default: bool = True  # run without --only
    quick: bool = True  # run with --quick
    what: str = ""


MEMBERS = (
    Member("overhead", "bench.suite.overhead", what="Trainer vs a hand-written PyTorch loop, store on and off"),
    Member("strategies", "bench.suite.strategies", what="every strategy's step time vs the plain loop, and torchjd"),
    Member("scale", "bench.suite.scale", what="epoch time and peak memory by rows, tasks, width, threads"),
    Member("gpu", "bench.suite.gpu", what="the strategy and scale benchmarks on CUDA, or 'no GPU'"),
    Member("compare_speed", "bench.suite.legacy", what="single-task vs multi-task comparison wall time"),
    Member("mmoe_trend", "bench.suite.legacy", what="MMoE vs hard sharing by task correlation"),
    Member("dashboard", "bench.suite.legacy", default=False, quick=False,
           what="the dashboard in a real browser (about an hour)"),
    Member("store_list", "bench.suite.legacy", default=False, quick=False, what="run store listing (bench.store_list)"),
    Member("load", "bench.suite.legacy", default=False, quick=False, what="a shared link under load (bench.load)"),
    Member("leaderboard", "bench.suite.leaderboard_bench", default=False,
           what="every strategy × built-in data set × seeds, with STL and a boosted tree"),
)


RECORD_PREFIXES = {"overhead": "overhead", "strategy_step": "strategies", "scale": "scale", "gpu": "gpu"}


def sections_from(records: Sequence[dict[str, Any]], options: Options) -> dict[str, str]:
    """The doc sections of the members whose sections are a function of their records alone (overhead,
    strategies, scale, gpu), rebuilt from saved records: ``python -m bench --from results.json``."""
    by_member: dict[str, list[dict[str, Any]]] = {}
    for item in records:
        member = next((name for prefix, name in RECORD_PREFIXES.items() if item["name"].startswith(prefix)), None)
        if member is not None and item["machine"]["device"] != "cpu":
            member = "gpu"  # the gpu member's records are the others' measured on CUDA
        if member is not None:
            by_member.setdefault(member, []).append(item)
    sections = {}
    for member in MEMBERS:
        if member.name in by_member:
            text = importlib.import_module(member.module).section(by_member[member.name], options)
            sections[text.split("\n", 1)[0]] = text
    return sections


def chosen(only: Sequence[str] | None, quick: bool) -> list[Member]:
    """The members to run: those named, else the default ones (those that run quickly with --quick)."""
    names = {member.name: member for member in MEMBERS}
    if only:
        unknown = [name for name in only if name not in names]
        if unknown:
            raise SystemExit(f"no benchmark named {', '.join(unknown)}; available: {', '.join(names)}")
        return [names[name] for name in only]
    if quick:
        return [member for member in MEMBERS if member.quick]
    return [member for member in MEMBERS if member.default]


def run_members(members: Sequence[Member], options: Options) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Every member's records and doc sections (heading -> text), with a progress bar over members."""
    records: list[dict[str, Any]] = []
    sections: dict[str, str] = {}
    with tqdm(total=len(members), unit="benchmark", dynamic_ncols=True) as bar:
        for member in members:
            module = importlib.import_module(member.module)
            started = time.perf_counter()
            bar.set_description(member.name)

            def progress(text: str, member: Member = member) -> None:
                bar.set_postfix_str(text[:60], refresh=True)

            options.extra["member"] = member.name
            found = module.measure(options, progress)
            records += found
            section = getattr(module, "section", None)
            text = section(found, options) if section is not None else None
            if text:
                sections[text.split("\n", 1)[0]] = text
            bar.write(f"{member.name}: {len(found)} record(s) in {time.perf_counter() - started:.1f} s")
            bar.update(1)
    return records, sections
