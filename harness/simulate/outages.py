"""Outage windows measured from t=0 (the first event): ``2h..8h``, ``90s..2h30m``."""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Iterable, Sequence

from harness.core.durations import parse_duration
from harness.errors import UsageError

__all__ = ["MAX_SPAN", "Outages", "parse_outage", "parse_span"]

MAX_SPAN = 366 * 86400.0  # the longest span of virtual time anything may name: a year
_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d)")


def parse_span(text: str | float, *, what: str = "duration") -> float:
    """A finite duration of at most a year, also compound as the reports print it (``2h30m``)."""
    if isinstance(text, str):
        stripped = text.strip()
        parts = _PART.findall(stripped)
        if len(parts) > 1 and "".join(n + u for n, u in parts) == stripped:
            value = sum(parse_duration(n + u, what=what) for n, u in parts)
        else:
            value = parse_duration(stripped, what=what)
    else:
        value = parse_duration(text, what=what)
    if not math.isfinite(value) or value < 0:
        raise UsageError(f"Invalid {what} {text!r}: must be a finite duration, 0 or more.")
    if value > MAX_SPAN:
        raise UsageError(f"Invalid {what} {text!r}: at most 366d.")
    return value


def parse_outage(text: str) -> tuple[float, float]:
    """``START..END`` in durations from t=0 (``90s``, ``30m``, ``6h``, ``2d``, ``2h30m``); START may be omitted."""
    start, sep, end = text.partition("..")
    if not sep:
        raise UsageError(f"Invalid outage {text!r}: write START..END, e.g. 2h..8h.")
    try:
        begin, finish = parse_span(start or "0s"), parse_span(end)
    except (ValueError, UsageError):
        raise UsageError(f"Invalid outage {text!r}: durations look like 90s, 30m, 2h30m or 2d, up to 366d.") from None
    if finish <= begin:
        raise UsageError(f"Invalid outage {text!r}: the end must come after the start.")
    return begin, finish


class Outages:
    """Sorted, merged windows ``[start, end)`` during which the receiver is unreachable."""

    def __init__(self, windows: Iterable[tuple[float, float]] = ()) -> None:
        merged: list[list[float]] = []
        for start, end in sorted(windows):
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        self.starts = [w[0] for w in merged]
        self.ends = [w[1] for w in merged]

    @property
    def windows(self) -> Sequence[tuple[float, float]]:
        """The merged windows."""
        return list(zip(self.starts, self.ends, strict=True))

    def down(self, t: float) -> bool:
        """Is the receiver down at virtual time ``t``?"""
        i = bisect.bisect_right(self.starts, t) - 1
        return i >= 0 and t < self.ends[i]
