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
and the deliveries strategy is `from harness.strategies import deliveries` (`harness.deliveries` is a module);
`signed_deliveries` below is the same strategy with the provider's signature on every delivery. The pytest plugin's
helpers are `from harness.pytest_plugin import replay_params, scenario_params`, and the Locust user is
`from harness.locust import WebhookUser`.
"""


def _signature(obj: object) -> str:
    try:
        text = str(inspect.signature(obj))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return ""
    return re.sub(r" at 0x[0-9a-f]+", "", text)  # a default that is a lambda: no memory address


def _type(annotation: object) -> str:
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", repr(annotation))
    return str(text).replace("|", "\\|")


def _fields(cls: type) -> list[str]:
    """A dataclass's fields as a table: name, type, default."""
    import dataclasses

    rows = ["| field | type | default |", "|---|---|---|"]
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.name.startswith("_") or not f.init or f.name in ("tokens", "certificates"):
            continue
        if f.default is not dataclasses.MISSING:
            default = f"`{f.default!r}`"
        elif f.default_factory is not dataclasses.MISSING:
            default = f"`{f.default_factory.__name__}()`"
        else:
            default = "required"
        rows.append(f"| `{f.name}` | `{_type(f.type)}` | {default} |")
    return rows


def _members(cls: type) -> list[str]:
    """Public methods and properties with their signatures and first docstring line."""
    lines = []
    for name, member in sorted(vars(cls).items()):
        if name.startswith("_"):
            continue
        target = member.fget if isinstance(member, property) else getattr(member, "__func__", member)
        if not callable(target):
            continue
        summary = (inspect.getdoc(target) or "").split("\n", 1)[0]
        if isinstance(member, property):
            returned = inspect.signature(target).return_annotation
            shown = f"{name}: {returned}" if returned is not inspect.Signature.empty else name
            lines.append(f"- `{shown}` (property): {summary}")
        else:
            lines.append(f"- `{name}{_signature(target)}`: {summary}")
    return lines


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
        if kind == "class" and name not in ("Probe", "Transport") and not issubclass(obj, BaseException):
            import dataclasses

            signature = "" if dataclasses.is_dataclass(obj) else _signature(obj).replace("'", "")
        if signature:
            lines += ["```python", f"{name}{signature}", "```", ""]
        if doc:
            lines += [doc, ""]
        if kind == "class" and not issubclass(obj, BaseException):
            import dataclasses

            if dataclasses.is_dataclass(obj):
                lines += ["Fields:", "", *_fields(obj), ""]
            members = _members(obj)
            if members:
                lines += ["Methods:", "", *members, ""]
        sections.append("\n".join(lines))
    return "\n".join(sections).rstrip() + "\n"


if __name__ == "__main__":
    (ROOT / "docs" / "api.md").write_text(render(), encoding="utf-8")
    sys.stdout.write("docs/api.md written\n")
