"""The strategies section of docs/benchmarks.md: ratios to the plain step, ours beside torchjd's."""

from __future__ import annotations

from typing import Any

from bench.suite.records import machine_text

LIBMTL = ("LibMTL does not install beside torch 2.13: `pip install libmtl` would replace torch 2.13.0+cpu by "
          "2.14 and the CUDA stack, so it is not measured.")


def cell(found: dict[str, Any] | None) -> str:
    if found is None:
        return "—"
    if found["ratio"] is None:
        return str(found["parameters"].get("error", "—"))
    return f"{found['ratio']:.2f}×"


def strategies_section(records: list[dict[str, Any]], sizes: dict[str, Any], heading: str) -> str:
    steps = [r for r in records if r["name"] == "strategy_step"]
    noise = [r["ratio"] for r in records if r["name"] == "strategy_step_noise" and r["ratio"] is not None]
    tasks = sorted({r["parameters"]["tasks"] for r in steps})
    index = {(r["parameters"]["strategy"], r["parameters"]["impl"].split(".")[0], r["parameters"]["space"],
              r["parameters"]["tasks"]): r for r in steps}
    theirs = {r["parameters"]["strategy"]: r["parameters"]["impl"] for r in steps
              if r["parameters"]["impl"] != "mtl_core"}
    columns = [(impl, space, n) for impl, space in (("mtl_core", "parameters"), ("mtl_core", "representation"),
                                                     ("torchjd", "parameters")) for n in tasks]
    names = list(dict.fromkeys(r["parameters"]["strategy"] for r in steps))
    words = {"mtl_core": "ours", "torchjd": "torchjd", "parameters": "param.", "representation": "repr."}
    header = ("| strategy | kind | " + " | ".join(f"{words[i]} {words[s]} T={n}"
                                                  for i, s, n in columns) + " | torchjd class |")
    lines = [heading, "",
             "Step time of each registered strategy divided by the step time of a plain summed-loss step (Σ_t L_t), "
             f"same model and batches, same process: T regression tasks (T = {', '.join(map(str, tasks))}), MLP trunk "
             "32→256→256 with one linear head per task, batch 256, Adam, one torch thread. "
             f"{sizes['warmup']} warm-up rounds, then the median of {sizes['repeats']} steps of each; in every round "
             "the method, the plain step and an identical second plain step (the noise copy) run in turn, who goes "
             "first rotating; each step timed in the CPU time of its thread (`time.thread_time`). `ours param.`: "
             "the Jacobian of the shared parameters (one backward pass per task); `ours repr.`: the task gradients "
             "of the shared representation, then one backward pass through the trunk; `torchjd param.`: torchjd's "
             "aggregator of the same method in place of ours inside the same step (same Jacobian, same head "
             "gradients, same optimiser), at the settings our defaults use. `refused`: the method does not work in "
             "that space; `needs …`: torchjd's class needs packages this machine lacks. Targets (as in "
             "`bench.step_time`): in the parameter space PCGrad / IMTL-G / UPGrad ≤ 2.5×, MGDA / CAGrad / Nash-MTL "
             "≤ 3× at T = 3; in the representation space every gradient method ≤ 1.6× at T = 3 and ≤ 2.0× at "
             "T = 10; loss-based ≤ 1.1×.", "",
             f"Noise: the plain step's copy / the plain step over all rows: median "
             f"{_median(noise):.3f}×, range {min(noise, default=float('nan')):.2f}–"
             f"{max(noise, default=float('nan')):.2f}×.", "",
             LIBMTL, "",
             f"Machine: {machine_text(steps[0]['machine']) if steps else '—'}.", "",
             "Reproduce: `python -m bench --only strategies` (torchjd's CAGrad and NashMTL need cvxpy, clarabel and "
             "ecos importable; for this table they were installed in a folder of their own on `PYTHONPATH`, as they "
             "are no requirement of MTL Lab).", "",
             header, "|---|---|" + "---:|" * len(columns) + "---|"]
    for name in names:
        kind = next(r["parameters"]["kind"] for r in steps if r["parameters"]["strategy"] == name)
        cells = [cell(index.get((name, impl, space, n))) for impl, space, n in columns]
        lines.append(f"| {name} | {kind} | " + " | ".join(cells) + f" | {theirs.get(name, '—')} |")
    return "\n".join(lines) + "\n"


def _median(values: list[float]) -> float:
    import statistics
    return statistics.median(values) if values else float("nan")
