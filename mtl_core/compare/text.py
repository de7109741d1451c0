"""Plain-text views of a comparison and a Pareto sweep, for the terminal."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mtl_core.compare.stats import plus_minus


def mean_std(summary: Mapping[str, Any]) -> str:
    """'0.744 ± 0.008', '0.744' for one value, '—' for none.

    >>> mean_std({"mean": 0.7441, "std": 0.0081}), mean_std({"mean": None, "std": None})
    ('0.744 ± 0.008', '—')
    """
    if summary.get("mean") is None:
        return "—"
    return plus_minus(summary["mean"], summary.get("std"))


def table_lines(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Left-aligned columns, two spaces apart."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
            for row in [header, *rows]]


def comparison_text(summary: Mapping[str, Any]) -> str:
    """The table (mean ± std per task and method), the paired results, Δm% in words, the verdicts, the notes."""
    tasks = summary["tasks"]
    seeds = summary["seeds"]
    lines = [f"test metrics, mean ± sample std over {len(seeds)} seeds (train.seed {', '.join(map(str, seeds))}); "
             f"stl = each task trained alone"]
    header = ["method", *(f"{task} {block['metric']} ({'↑' if block['higher_is_better'] else '↓'})"
                          for task, block in tasks.items())]
    rows = [[method, *(mean_std(block["results"][method]) for block in tasks.values())]
            for method in summary["methods"]]
    lines += table_lines(header, rows)
    lines += ["", "Δm% (primary metrics; negative = multi-task better):"]
    lines += [f"  {block['sentence']}" for block in summary["delta_m_percent"].values()]
    lines += ["", "verdicts (paired t-test at α = 0.05; difference = multi-task − single-task):"]
    lines += [f"  {verdict['text']}" for per_task in summary["verdicts"].values() for verdict in per_task.values()]
    if summary.get("caution"):
        lines += ["", f"caution: {summary['caution']}"]
    if summary.get("notes"):
        lines += ["", "notes:", *(f"  {note}" for note in summary["notes"])]
    return "\n".join(lines)


def front_text(front: Mapping[str, Any]) -> str:
    """One row per sweep point, strategy and stl: per-task mean ± std; * marks the non-dominated points."""
    tasks = front["tasks"]
    header = ["weights", *(f"{task} {info['metric']} ({'↑' if info['higher_is_better'] else '↓'})"
                           for task, info in tasks.items()), ""]
    rows = [[f"static {point['label']}", *(mean_std(point["tasks"][task]) for task in tasks),
             "* non-dominated" if point["non_dominated"] else ""] for point in front["points"]]
    references = {**front["strategies"], "stl": front["stl"]}
    rows += [[name, *(mean_std(reference["tasks"][task]) for task in tasks),
              f"dominated by static {', '.join(reference['dominated_by'])}" if reference["dominated_by"] else ""]
             for name, reference in references.items()]
    lines = [f"Pareto sweep of static weights (sum = {len(tasks)}), mean ± sample std over "
             f"{len(front['seeds'])} seeds (train.seed {', '.join(map(str, front['seeds']))})"]
    lines += table_lines(header, rows)
    if front.get("notes"):
        lines += ["", "notes:", *(f"  {note}" for note in front["notes"])]
    return "\n".join(lines)
