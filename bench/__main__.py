"""The benchmark suite: ``python -m bench [--quick] [--only NAME ...] [--out results.json]``.

Runs every benchmark, prints a table, writes one JSON record per measurement, and regenerates
docs/benchmarks.md from the records (``bench.report``). ``--quick`` shrinks each benchmark to a check that it
runs (CI): its numbers mean nothing. The leaderboard runs only when named: ``--only leaderboard``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import torch

from bench.report import DEFAULT, write_sections
from bench.suite.options import Options
from bench.suite.runner import MEMBERS, chosen, run_members, sections_from
from bench.suite.table import table


def parser() -> argparse.ArgumentParser:
    described = "\n".join(f"  {member.name:<14} {member.what}" for member in MEMBERS)
    result = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0],
                                     epilog="benchmarks:\n" + described,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    result.add_argument("--quick", action="store_true", help="tiny sizes and repeats: checks that the suite runs")
    result.add_argument("--only", nargs="+", metavar="NAME", help="run these benchmarks only")
    result.add_argument("--out", type=Path, default=Path("bench_results.json"), help="the JSON records")
    result.add_argument("--doc", type=Path, default=DEFAULT, help="the benchmarks doc to regenerate")
    result.add_argument("--no-write", action="store_true", help="write the JSON only, no doc or HTML")
    result.add_argument("--threads", type=int, default=1, help="torch threads for the timings (default 1)")
    result.add_argument("--from", dest="source", type=Path, metavar="JSON",
                        help="measure nothing: regenerate the doc sections (and curves) from saved records")
    group = result.add_argument_group("leaderboard")
    group.add_argument("--cache", type=Path, help="folder of the leaderboard's cache (resumes from it)")
    group.add_argument("--seeds", type=int, default=5)
    group.add_argument("--epochs", type=int, help="epochs of every run (default: each set's own, see bench/README.md)")
    group.add_argument("--sets", nargs="+", default=(), help="built-in data sets (default: all seven)")
    return result


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    torch.set_num_threads(args.threads)
    # quick numbers mean nothing: with --quick the docs are written only to a --doc named explicitly
    write = not args.no_write and (not args.quick or args.doc != DEFAULT)
    folder = args.doc.parent
    options = Options(quick=args.quick, cache=args.cache, seeds=args.seeds, epochs=args.epochs, sets=tuple(args.sets),
                      leaderboard_doc=folder / "leaderboard.md" if write else None,
                      scaling_html=folder / "scaling_curves.html" if write else None)
    options.extra["threads"] = args.threads
    if args.source is not None:
        return regenerate(args.source, args.doc, options)
    records, sections = run_members(chosen(args.only, args.quick), options)
    print(table(records))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(records, indent=1, ensure_ascii=False), encoding="utf-8")
    print(f"{len(records)} records written to {args.out}")
    if write:
        write_sections(sections, args.doc)
        print(f"{len(sections)} section(s) of {args.doc} regenerated")
    return 0


def regenerate(source: Path, doc: Path, options: Options) -> int:
    """The sections (and scaling curves) rebuilt from a JSON of records."""
    records = json.loads(source.read_text(encoding="utf-8"))
    if options.scaling_html is not None and any(item["name"] == "scale_epoch" for item in records):
        from bench.suite.scale_doc import write_curves
        write_curves([item for item in records if item["name"].startswith("scale")
                      and item["machine"]["device"] == "cpu"], options.scaling_html)
    sections = sections_from(records, options)
    write_sections(sections, doc)
    print(f"{len(sections)} section(s) of {doc} regenerated from {source}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
