"""Durations written as ``250ms``, ``90s``, ``30m``, ``6h`` or ``2d``."""

from __future__ import annotations

import re

from harness.errors import UsageError

__all__ = ["format_duration", "parse_duration"]

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PATTERN = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(ms|s|m|h|d)\s*$")


def parse_duration(text: str | float | int, *, what: str = "duration") -> float:
    """Return seconds for a duration string (a bare number means seconds)."""
    if isinstance(text, int | float):
        if text < 0:
            raise UsageError(f"Invalid {what} {text!r}: must not be negative.")
        return float(text)
    match = _PATTERN.match(text)
    if match is None:
        try:
            value = float(text)
        except ValueError:
            raise UsageError(
                f"Invalid {what} {text!r}. Write a number and a unit: 250ms, 90s, 30m, 6h or 2d."
            ) from None
        if value < 0:
            raise UsageError(f"Invalid {what} {text!r}: must not be negative.")
        return value
    return float(match.group(1)) * _UNITS[match.group(2)]


def format_duration(seconds: float) -> str:
    """Render seconds compactly: ``45s``, ``5m``, ``2h30m``, ``1d``."""
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    total = round(seconds)
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if total >= size:
            count, total = divmod(total, size)
            parts.append(f"{count}{unit}")
    return "".join(parts[:2])
