"""ARCHITECTURE.md places every module of the package: a module missing from it fails here."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "harness"


def _items(text: str) -> list[str]:
    """The document split into its numbered layers (and the text before them), each with its nested lines."""
    return re.split(r"\n(?=\d+\. )", text)


def _placed(module: Path, items: list[str]) -> bool:
    relative = module.relative_to(ROOT).as_posix()
    if module.name == "__init__.py":
        return any(f"`{module.parent.relative_to(ROOT).as_posix()}/`" in item for item in items)
    if f"`{relative}`" in "\n".join(items):
        return True
    if module.parent == PACKAGE:
        return False
    folder = f"`{module.parent.relative_to(ROOT).as_posix()}/`"
    names = (f"`{module.name}`", f"`{module.stem}`")
    return any(folder in item and any(name in item for name in names) for item in items)


def test_every_module_under_harness_is_placed_in_the_architecture() -> None:
    items = _items((ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8"))
    modules = sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)
    missing = [m.relative_to(ROOT).as_posix() for m in modules if not _placed(m, items)]
    assert missing == [], f"place these modules in ARCHITECTURE.md: {', '.join(missing)}"


def test_the_check_sees_a_missing_module(tmp_path: Path) -> None:
    items = _items("1. `harness/core/`: the foundations.\n   - `models.py`: value types.\n2. `harness/errors.py`.")
    assert _placed(PACKAGE / "core" / "models.py", items)
    assert _placed(PACKAGE / "errors.py", items)
    assert not _placed(PACKAGE / "core" / "files.py", items)
    assert not _placed(PACKAGE / "violations.py", items)
    assert not _placed(PACKAGE / "load" / "api.py", items)  # `api` of another folder does not place it
