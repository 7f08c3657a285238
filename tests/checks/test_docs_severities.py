"""The severity table in docs/severities.md lists every registered check with its registered default."""

from __future__ import annotations

import re
from pathlib import Path

from harness.checks import CHECKS, ordered_ids

DOC = Path(__file__).resolve().parents[2] / "docs" / "severities.md"


def test_the_documented_defaults_are_the_registered_ones() -> None:
    rows = re.findall(r"^\| `([a-z-]+)` \| (error|warn) \|", DOC.read_text("utf-8"), re.MULTILINE)
    assert [name for name, _ in rows] == ordered_ids()
    assert dict(rows) == {n: CHECKS.get(n).severity for n in ordered_ids()}
