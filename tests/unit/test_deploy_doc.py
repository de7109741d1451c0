"""docs/deploy.md lists every limit with its variable and default, so the deployment guide cannot drift."""

from __future__ import annotations

import re
from pathlib import Path

from mtl_core import limits

DOC = Path(__file__).resolve().parents[2] / "docs" / "deploy.md"


def test_every_limit_is_in_the_deployment_table_with_its_default() -> None:
    rows = dict(re.findall(r"^\| `(MTL_[A-Z_]+)` \| ([\d,]+) \|", DOC.read_text(encoding="utf-8"), re.MULTILINE))
    for limit in limits.LIMITS.values():
        assert limit.variable in rows, f"{limit.variable} is missing from docs/deploy.md"
        assert int(rows[limit.variable].replace(",", "")) == int(limit), limit.variable  # read without overrides
