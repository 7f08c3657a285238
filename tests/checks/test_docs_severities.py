"""The severity table in docs/severities.md lists every registered check with its registered default."""

from __future__ import annotations

import re
from pathlib import Path

from harness.checks import CHECKS, INPUT_CLASSES, ordered_ids

DOC = Path(__file__).resolve().parents[2] / "docs" / "severities.md"


def test_the_documented_defaults_are_the_registered_ones() -> None:
    found = re.findall(r"^\| `([a-z-]+)` \| (error|warn) \| ([a-z-]+) \|", DOC.read_text("utf-8"), re.MULTILINE)
    assert [name for name, _, _ in found] == ordered_ids()
    assert {name: severity for name, severity, _ in found} == {n: CHECKS.get(n).severity for n in ordered_ids()}
    assert {name: sent for name, _, sent in found} == {n: CHECKS.get(n).input_class for n in ordered_ids()}


def test_the_three_input_classes_are_documented_with_their_default_severity() -> None:
    text = DOC.read_text("utf-8")
    for name, spec in INPUT_CLASSES.items():
        assert re.search(rf"^\| `{name}` \|.*\| `{spec.severity}` \|$", text, re.MULTILINE), name
        assert f"**{name}**, example:" in text
