"""Durations written as ``250ms``, ``90s``, ``30m``, ``6h``, ``2d`` or compound as printed (``2h30m``, ``1d2h``)."""

from __future__ import annotations

import itertools
import math
import re

from harness.core.errors import UsageError

__all__ = ["MAX_DURATION", "format_duration", "parse_duration"]

MAX_DURATION = 366 * 86400.0  # a year and a day: anything longer is a typo, not a retry window or an outage
_UNITS = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
_RANK = {unit: rank for rank, unit in enumerate(_UNITS)}
_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d)")
_COMPOUND = re.compile(r"(?:[0-9]+(?:\.[0-9]+)?(?:ms|s|m|h|d))+")
_HINT = "Write a number and a unit (250ms, 90s, 30m, 6h, 2d) or several, largest first (2h30m, 1d2h)."


def _checked(seconds: float, text: object, what: str) -> float:
    if not math.isfinite(seconds):
        raise UsageError(f"Invalid {what} {text!r}: must be a finite number of seconds.")
    if seconds < 0:
        raise UsageError(f"Invalid {what} {text!r}: must not be negative.")
    if seconds > MAX_DURATION:
        raise UsageError(f"Invalid {what} {text!r}: longer than a year; write at most 366d.")
    return float(seconds)


def parse_duration(text: str | float | int, *, what: str = "duration") -> float:
    """Return seconds for a duration string (a bare number means seconds); what ``format_duration`` prints parses."""
    if isinstance(text, bool):
        raise UsageError(f"Invalid {what} {text!r}. {_HINT}")
    if isinstance(text, int | float):
        return _checked(float(text), text, what)
    if not isinstance(text, str):
        raise UsageError(f"Invalid {what} {text!r}. {_HINT}")
    compact = text.strip()
    if _COMPOUND.fullmatch(compact):
        parts = _PART.findall(compact)
        ranks = [_RANK[unit] for _, unit in parts]
        if any(later <= earlier for earlier, later in itertools.pairwise(ranks)):
            raise UsageError(f"Invalid {what} {text!r}: give each unit once, largest first (2h30m, not 30m2h).")
        return _checked(sum(float(number) * _UNITS[unit] for number, unit in parts), text, what)
    single = re.fullmatch(r"([0-9]+(?:\.[0-9]+)?)\s*(ms|s|m|h|d)", compact)
    if single is not None:  # ``90 s``: a space between number and unit
        return _checked(float(single.group(1)) * _UNITS[single.group(2)], text, what)
    if re.fullmatch(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", compact) is None:
        raise UsageError(f"Invalid {what} {text!r}. {_HINT}")  # not a plain number: no nan, inf or 1_000
    return _checked(float(compact), text, what)


def format_duration(seconds: float) -> str:
    """Render seconds compactly in at most two units: ``45s``, ``5m``, ``2h30m``, ``1d``; sub-second as ``250ms``."""
    if not math.isfinite(seconds):
        return "unbounded" if seconds > 0 else "invalid"
    if seconds < 0:
        return "-" + format_duration(-seconds)
    millis = round(seconds * 1000)
    if millis < 1000:
        return f"{millis}ms"
    total = round(seconds)
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if total >= size:
            count, total = divmod(total, size)
            parts.append(f"{count}{unit}")
    return "".join(parts[:2])
