"""Writing a benchmark's results into ``docs/benchmarks.md``: one section per benchmark, the others left alone."""

from __future__ import annotations

from pathlib import Path

DEFAULT = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def write_section(heading: str, text: str, path: Path = DEFAULT) -> None:
    """Replace the section that starts with ``heading`` (up to the next ``## ``) by ``text``, or append it.

    ``text`` starts with the heading itself; a new file starts with "# Benchmarks".
    """
    old = path.read_text(encoding="utf-8") if path.is_file() else "# Benchmarks\n"
    start = old.find(heading)
    if start < 0:
        new = old.rstrip("\n") + "\n\n" + text
    else:
        following = old.find("\n## ", start + len(heading))
        new = old[:start] + text + (old[following + 1:] if following >= 0 else "")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(new.rstrip("\n") + "\n", encoding="utf-8")


INTRO = ("Written by `python -m bench` (the suite; see `bench/README.md`), section by section: a run replaces the "
         "sections it measured and keeps the others. The JSON records behind them come from `--out`. Every strategy "
         "on the built-in data sets: [leaderboard.md](leaderboard.md).")


def write_sections(sections: dict[str, str], path: Path = DEFAULT) -> None:
    """Replace (or append) each section, by heading; every other section of the file is kept as it is. The
    file's first paragraph says how it is written."""
    for heading, text in sections.items():
        write_section(heading, text.rstrip("\n") + "\n\n", path)  # a blank line before the next heading
    if sections and INTRO not in (old := path.read_text(encoding="utf-8")):
        title, _, rest = old.partition("\n")
        path.write_text(f"{title}\n\n{INTRO}\n\n{rest.lstrip(chr(10))}", encoding="utf-8")
