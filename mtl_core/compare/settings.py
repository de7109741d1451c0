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

from mtl_core.weighting import available

MAX_SEEDS, MAX_POINTS = 20, 15
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
    warnings.extend(f"{PREFIX}{key}: not a comparison setting (strategies, seeds, points); ignored" for key in given)
    values = {key: value for key, value in numbers.items() if value is not None}
    return ComparisonSettings(**({"strategies": strategies} if strategies else {}), **values), tuple(warnings)


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
            warnings.append(f"{PREFIX}strategies: no strategy named {name!r}; "
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
        warnings.append(f"{PREFIX}{name} = {text!r}: not a whole number; using the default")
        return None
    if not low <= value <= high:
        warnings.append(f"{PREFIX}{name} = {text!r}: must be between {low} and {high}; using "
                        f"{min(max(value, low), high)}")
    return min(max(value, low), high)
