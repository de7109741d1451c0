"""The settings of a comparison (strategies, seeds, sweep points) and their place in a share link.

They travel beside the experiment's own settings as ``compare.strategies``, ``compare.seeds`` and
``compare.points``; like the experiment's, a bad value never stops the page: the nearest valid one
is used and a warning names the parameter.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from mtl_core import limits
from mtl_core.errors import ConfigError
from mtl_core.limits import MAX_COMPARISON_EPOCHS, MAX_POINTS, MAX_SEEDS
from mtl_core.weighting import available

PREFIX = "compare."


class ComparisonSettings(BaseModel):
    """What a comparison trains besides the experiment: the strategies, the seeds, and the weight sweep."""

    model_config = ConfigDict(frozen=True)

    strategies: tuple[str, ...] = ("equal",)
    seeds: Annotated[int, Field(ge=1, le=MAX_SEEDS)] = 5
    points: Annotated[int, Field(ge=0, le=MAX_POINTS)] = 5  # static weightings swept; 0: no Pareto plot

    def to_query(self) -> dict[str, str]:
        """The settings that differ from the defaults, as ``compare.*`` query keys.

        >>> ComparisonSettings(strategies=("equal", "gradnorm"), seeds=3).to_query()
        {'compare.strategies': 'equal,gradnorm', 'compare.seeds': '3'}
        """
        default = ComparisonSettings()
        values = {"strategies": ",".join(self.strategies), "seeds": str(self.seeds), "points": str(self.points)}
        defaults = {"strategies": ",".join(default.strategies), "seeds": str(default.seeds),
                    "points": str(default.points)}
        return {PREFIX + key: value for key, value in values.items() if value != defaults[key]}


def settings_from_query(params: Mapping[str, str | Sequence[str]]) -> tuple[ComparisonSettings, tuple[str, ...]]:
    """The comparison a link describes, and a warning for each value that had to be changed; never raises.

    >>> settings, warnings = settings_from_query({"compare.seeds": "50", "compare.strategies": "equal,pcgard"})
    >>> settings.seeds, settings.strategies
    (20, ('equal', 'pcgrad'))
    >>> warnings[0]
    "compare.strategies: no strategy named 'pcgard'; using 'pcgrad'"
    """
    given = {key[len(PREFIX):]: _last(value) for key, value in params.items() if str(key).startswith(PREFIX)}
    warnings: list[str] = []
    strategies = _strategies(given.pop("strategies", None), warnings)
    numbers = {name: _bounded(name, given.pop(name, None), low, high, warnings)
               for name, low, high in (("seeds", 1, MAX_SEEDS), ("points", 0, MAX_POINTS))}
    warnings.extend(f"{PREFIX}{_short(key)}: not a comparison setting (strategies, seeds, points); ignored"
                    for key in list(given)[:20])
    values = {key: value for key, value in numbers.items() if value is not None}
    settings = ComparisonSettings(**({"strategies": strategies} if strategies else {}), **values)
    settings, note = fit_work(settings, *_experiment_size(params))
    return settings, tuple([*warnings, *([note] if note else [])])


def sweep_size(points: int, tasks: int) -> int:
    """Static weightings a sweep of ``points`` trains: K along the segment for 2 tasks, K(K−1)/2 for 3, else none."""
    return points if tasks == 2 else points * (points - 1) // 2 if tasks == 3 else 0


def comparison_epochs(settings: ComparisonSettings, epochs: int, tasks: int) -> int:
    """Epochs over all the comparison's runs: seeds × (single-task + strategies + sweep points) × epochs."""
    return settings.seeds * (1 + len(settings.strategies) + sweep_size(settings.points, tasks)) * epochs


def check_work(settings: ComparisonSettings, epochs: int, tasks: int) -> None:
    """ConfigError when the comparison would train more epochs than MAX_COMPARISON_EPOCHS (the CLI refuses it)."""
    total = comparison_epochs(settings, epochs, tasks)
    if total > MAX_COMPARISON_EPOCHS:
        raise ConfigError(f"the comparison trains {total:,} epochs ({settings.seeds} seeds × "
                          f"{1 + len(settings.strategies) + sweep_size(settings.points, tasks)} runs per seed × "
                          f"{epochs} epochs); {limits.describe('MAX_COMPARISON_EPOCHS')}. Use fewer seeds, "
                          f"strategies, points or epochs")


def fit_work(settings: ComparisonSettings, epochs: int, tasks: int) -> tuple[ComparisonSettings, str | None]:
    """The settings cut to MAX_COMPARISON_EPOCHS (fewer seeds, then no sweep, then fewer strategies), and a note.

    >>> fit_work(ComparisonSettings(seeds=20, points=15), epochs=1000, tasks=2)[0].seeds
    1
    """
    if comparison_epochs(settings, epochs, tasks) <= MAX_COMPARISON_EPOCHS:
        return settings, None
    fitted = settings
    for change in ({"seeds": 1}, {"points": 0}):
        per_seed = comparison_epochs(fitted.model_copy(update={"seeds": 1}), epochs, tasks)
        fitted = fitted.model_copy(update={"seeds": max(1, min(fitted.seeds, MAX_COMPARISON_EPOCHS // per_seed))})
        if comparison_epochs(fitted, epochs, tasks) <= MAX_COMPARISON_EPOCHS:
            break
        fitted = fitted.model_copy(update=change)
    room = max(1, MAX_COMPARISON_EPOCHS // max(1, epochs * fitted.seeds) - 1 - sweep_size(fitted.points, tasks))
    fitted = fitted.model_copy(update={"strategies": fitted.strategies[:room]})
    total = comparison_epochs(settings, epochs, tasks)
    return fitted, (f"{PREFIX}seeds: {total:,} epochs over all runs is past the limit, "
                    f"{limits.describe('MAX_COMPARISON_EPOCHS')}; using {fitted.seeds} seeds, {fitted.points} points "
                    f"and {len(fitted.strategies)} strategies")


def _experiment_size(params: Mapping[str, str | Sequence[str]]) -> tuple[int, int]:
    """The epochs and the task count of the experiment the same link describes."""
    from mtl_core.data import default_tasks  # here: the data registry is needed only when a link is read
    from mtl_core.share import from_query

    config = from_query(params).config
    return config.train.epochs, len(config.tasks or default_tasks(config.data))


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _last(value: str | Sequence[str]) -> str:
    return value if isinstance(value, str) else (str(value[-1]) if len(value) else "")


def _strategies(text: str | None, warnings: list[str]) -> tuple[str, ...]:
    """Known names kept, misspelt ones replaced by the closest registered name, the rest dropped."""
    if text is None:
        return ()
    names, known = [], available()
    for name in (part.strip() for part in text.split(",") if part.strip()):
        close = name if name in known else next(iter(difflib.get_close_matches(name, known, n=1, cutoff=0.6)), None)
        if close != name:
            warnings.append(f"{PREFIX}strategies: no strategy named {_short(name)!r}; "
                            + (f"using {close!r}" if close else "left out"))
        if close is not None and close not in names:
            names.append(close)
    return tuple(names)


def _bounded(name: str, text: str | None, low: int, high: int, warnings: list[str]) -> int | None:
    """A whole number clamped into [low, high]; text that is not one is ignored with a warning."""
    if text is None:
        return None
    try:
        value = int(float(text))
    except (ValueError, OverflowError):  # text, nan or inf
        warnings.append(f"{PREFIX}{name} = {_short(text)!r}: not a whole number; using the default")
        return None
    if not low <= value <= high:
        bound = f"at least {low}" if value < low else limits.describe(name.upper().replace("SEEDS", "MAX_SEEDS")
                                                                       .replace("POINTS", "MAX_POINTS"))
        warnings.append(f"{PREFIX}{name} = {_short(text)!r}: {bound}; using {min(max(value, low), high)}")
    return min(max(value, low), high)
