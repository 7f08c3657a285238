"""What a lifecycle compares in the receiver's view: one JSON Pointer per state field (`--state-field`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from harness.catalog import Lifecycle
from harness.core.pointers import MISSING, parse_pointer, resolve_pointer
from harness.errors import UsageError
from harness.probes.state import HttpStateProbe, SqlStateProbe, StateProbe, make_state_probe

__all__ = [
    "HttpStateProbe",
    "SqlStateProbe",
    "StateProbe",
    "field_pointers",
    "make_state_probe",
    "project",
]


def field_pointers(lifecycle: Lifecycle, overrides: Sequence[str] | Mapping[str, str] = ()) -> dict[str, str]:
    """Where each state field sits in the receiver's view: ``/field`` unless the profile's ``view`` or a
    ``--state-field FIELD=/pointer`` says otherwise."""
    out = {name: lifecycle.view.get(name, "/" + name.replace("~", "~0").replace("/", "~1")) for name in lifecycle.state}
    given = dict(overrides) if isinstance(overrides, Mapping) else dict(_split(item) for item in overrides)
    for name, pointer in given.items():
        if name not in out:
            continue  # a field of another lifecycle
        parse_pointer(pointer)
        out[name] = pointer
    return out


def _split(item: str) -> tuple[str, str]:
    name, sep, pointer = item.partition("=")
    if not sep or not name or not (pointer == "" or pointer.startswith("/")):
        raise UsageError(f"Invalid --state-field {item!r}: give FIELD=/json/pointer, e.g. status=/subscription/status.")
    return name, pointer


def project(view: Any, pointers: Mapping[str, str]) -> dict[str, Any] | None:
    """The lifecycle's fields as the view states them (None: no object); a field the view lacks reads as null."""
    if view is None:
        return None
    out = {}
    for name, pointer in pointers.items():
        value = resolve_pointer(view, pointer)
        out[name] = None if value is MISSING else value
    return out
