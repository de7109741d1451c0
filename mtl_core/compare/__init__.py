"""Single-task against multi-task, honestly: comparisons over seeds, paired tests, Δm%, verdicts, Pareto fronts.

``compare(config)`` trains each chosen strategy and the single-task baseline over seeds and returns a
JSON-ready summary; ``pareto(config)`` sweeps static loss weights and places the strategies beside them.
The statistics are pure functions of per-seed values (``mtl_core.compare.stats``).
"""

from mtl_core.compare.comparison import DEFAULT_SEEDS, compare
from mtl_core.compare.pareto import dominates, non_dominated, pareto, sweep_weights
from mtl_core.compare.runs import STL, baseline_config, run_group, seed_list, static_config, strategy_config
from mtl_core.compare.stats import delta_m, delta_m_sentence, describe, paired, verdict
from mtl_core.compare.study import study, study_runs

__all__ = [
    "DEFAULT_SEEDS", "STL", "baseline_config", "compare", "delta_m", "delta_m_sentence", "describe", "dominates",
    "non_dominated", "paired", "pareto", "run_group", "seed_list", "static_config", "strategy_config",
    "study", "study_runs", "sweep_weights", "verdict",
]
