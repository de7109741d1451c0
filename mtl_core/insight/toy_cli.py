"""``python -m mtl_core toy``: race weighting strategies across the toy landscape of Liu et al., 2021,
"Conflict-Averse Gradient Descent for Multi-task Learning" (CAGrad, NeurIPS), §5.

Writes ``{strategy: [{"start": [x1, x2], "end": [x1, x2], "trajectory": [[x1, x2], ...], "steps": [...]}, ...]}``
and prints where each run ended and how far that is from the middle of the Pareto set and from the set.
PyTorch loads only when the command runs.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any, TextIO

DEFAULT_STRATEGIES = ("equal", "mgda", "pcgrad", "cagrad")  # the paper's Figure 1 (Adam, MGDA, PCGrad, CAGrad)


def add_toy_command(commands: Any) -> None:
    """The ``toy`` sub-command."""
    toy = commands.add_parser("toy", help="race weighting strategies across the two-task toy landscape of CAGrad "
                                          "(Liu et al., 2021, §5) and write their trajectories as JSON")
    toy.add_argument("--strategies", type=_names, default=list(DEFAULT_STRATEGIES), metavar="A,B",
                     help="strategies, comma-separated (default: equal,mgda,pcgrad,cagrad; cagrad runs with c = 0.5, "
                          "the paper's toy setting)")
    toy.add_argument("--steps", type=int, default=None, metavar="N", help="Adam steps (default 100 000, the paper's)")
    toy.add_argument("--lr", type=float, default=None, help="Adam's learning rate (default 0.001, the paper's)")
    toy.add_argument("--start", dest="starts", action="append", nargs=2, type=float, metavar=("X1", "X2"),
                     help="a starting point; repeat for several (default: the paper's (-8.5, 7.5), (-8.5, -5), (9, 9))")
    toy.add_argument("--points", type=int, default=None, metavar="K",
                     help="points kept per trajectory, evenly spaced in steps (default 500)")
    toy.add_argument("--workers", type=int, default=None, metavar="N",
                     help="processes running (strategy, start) pairs side by side, with the same numbers "
                          "(default: one per CPU; 1: all in this process)")
    toy.add_argument("--out", default="toy.json", help="where to write the JSON (default: ./toy.json)")
    toy.set_defaults(handler=command_toy)


def _names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def command_toy(args: argparse.Namespace) -> int:
    """Run the race, write the JSON, print each run's end point and its distances; MTLError for a bad setting."""
    from mtl_core.insight.toy import LR, PAPER_STARTS, POINTS, STEPS, race
    from mtl_core.runs import write_results

    began = time.perf_counter()
    result = race(args.strategies, args.starts or PAPER_STARTS, STEPS if args.steps is None else args.steps,
                  LR if args.lr is None else args.lr, POINTS if args.points is None else args.points,
                  (os.cpu_count() or 1) if args.workers is None else args.workers)
    out = Path(args.out)
    write_results(out, {name: [run.to_dict() for run in runs] for name, runs in result.items()})
    print_ends(result, sys.stdout)
    print(f"{time.perf_counter() - began:.1f} s; trajectories: {out}", file=sys.stdout)
    return 0


def print_ends(result: Any, stream: TextIO) -> None:
    """One line per strategy and start: start → end, distance to the Pareto set's middle and to the set."""
    from mtl_core.insight.toy import PARETO_MIDDLE, end_rows

    print(f"distances to the middle of the Pareto set ({PARETO_MIDDLE[0]:g}, {PARETO_MIDDLE[1]:g}) and to the set "
          "(x2 = -8.3552, -7 <= x1 <= 7):", file=stream)
    for row in end_rows(result):
        print(f"{row['strategy']:>12}  {row['start']:>12} -> ({row['end x1']:8.4f}, {row['end x2']:8.4f})  "
              f"middle {row['to the middle']:7.4f}  set {row['to the Pareto set']:7.4f}", file=stream)
