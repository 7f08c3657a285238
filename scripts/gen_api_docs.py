#!/usr/bin/env python3
"""Write docs/api.md from the public API's docstrings (the suite checks that it is current)."""

from __future__ import annotations

import inspect
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import harness  # noqa: E402

HEADER = """# API reference

Generated from the docstrings by `python scripts/gen_api_docs.py`; `tests/test_public_api.py` fails when this page
is out of date. Everything here is importable from `harness` (for example `from harness import sign, verify`) and is
the stable surface: names not listed here, and modules whose names start with `_`, may change without notice.
The retry simulator's one-call API is `from harness.simulate import simulate` (`harness.simulate` is its package),
and the deliveries strategy is `from harness.strategies import deliveries` (`harness.deliveries` is a module).
"""


def _signature(obj: object) -> str:
    try:
        text = str(inspect.signature(obj))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return ""
    return re.sub(r" at 0x[0-9a-f]+", "", text)  # a default that is a lambda: no memory address


def render() -> str:
    """The page's text."""
    sections = [HEADER]
    for name in harness.__all__:
        if name == "__version__":
            continue
        obj = getattr(harness, name)
        kind = "class" if inspect.isclass(obj) else "function" if callable(obj) else "value"
        doc = inspect.getdoc(obj) or ""
        home = getattr(obj, "__module__", "harness")
        signature = _signature(obj) if kind == "function" else ""
        lines = [f"## `{name}`", "", f"*{kind}* from `{home}`", ""]
        if signature:
            lines += ["```python", f"{name}{signature}", "```", ""]
        if doc:
            lines += [doc, ""]
        sections.append("\n".join(lines))
    return "\n".join(sections).rstrip() + "\n"


if __name__ == "__main__":
    (ROOT / "docs" / "api.md").write_text(render(), encoding="utf-8")
    sys.stdout.write("docs/api.md written\n")
