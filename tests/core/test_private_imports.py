"""No module reaches into another package's private names (import-linter enforces the layer order itself)."""

from __future__ import annotations

import ast
from pathlib import Path

import harness

ROOT = Path(harness.__file__).resolve().parent


def _owner(module: str) -> str:
    """The top-level part of ``harness`` a module belongs to: ``harness.checks`` for ``harness.checks.bodies``."""
    return ".".join(module.split(".")[:2])


def _private(part: str) -> bool:
    return part.startswith("_") and not (part.startswith("__") and part.endswith("__"))


def _imports(path: Path) -> list[tuple[str, int]]:
    """Every ``harness...`` name imported by the file: ``module`` or ``module.name``, with its line."""
    found: list[tuple[str, int]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("harness"):
            found.extend((f"{node.module}.{alias.name}", node.lineno) for alias in node.names)
        elif isinstance(node, ast.Import):
            found.extend((alias.name, node.lineno) for alias in node.names if alias.name.startswith("harness"))
    return found


def test_no_private_names_cross_packages() -> None:
    offences = []
    for path in sorted(ROOT.rglob("*.py")):
        module = "harness." + ".".join(path.relative_to(ROOT).with_suffix("").parts)
        mine = _owner(module)
        for name, line in _imports(path):
            if _owner(name) != mine and any(_private(part) for part in name.split(".")[1:]):
                offences.append(f"{path.relative_to(ROOT.parent)}:{line} imports {name}")
    assert offences == []


def test_the_scan_sees_a_cross_package_private_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("from harness.strategies._negative import _set\nimport harness.core.models\n")
    names = [name for name, _ in _imports(sample)]
    assert names == ["harness.strategies._negative._set", "harness.core.models"]
    assert _owner(names[0]) == "harness.strategies" and any(_private(p) for p in names[0].split(".")[1:])
