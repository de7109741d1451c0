"""What one run of the suite was asked for, shared by every benchmark."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

Progress = Callable[[str], None]


@dataclass
class Options:
    """The suite's settings; ``quick`` shrinks every benchmark to a check that it runs."""

    quick: bool = False
    cache: Path | None = None  # the leaderboard's cache folder
    seeds: int = 5  # leaderboard seeds
    epochs: int | None = None  # leaderboard epochs per run (None: each set's own)
    sets: tuple[str, ...] = ()  # leaderboard data sets (empty: all)
    leaderboard_doc: Path | None = None
    scaling_html: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)
