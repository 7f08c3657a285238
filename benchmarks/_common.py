"""Small helpers shared by the benchmarks: medians of repeated timings and a table printer."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any


def median_time(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """Median wall time of ``repeats`` calls, and the last call's result."""
    times, result = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def table(rows: list[tuple[str, ...]]) -> str:
    """Left-aligned columns."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows)


class Targets:
    """The targets a benchmark states, checked: the exit code is 1 when one is missed (0 for a --quick smoke run)."""

    def __init__(self, quick: bool) -> None:
        self.quick = quick
        self.missed: list[str] = []

    def expect(self, met: bool, what: str) -> None:
        """Record one target."""
        if not met:
            self.missed.append(what)

    def exit_code(self) -> int:
        """Print the verdict; 1 if a target was missed in a full run."""
        if not self.missed:
            print("targets: all met")
            return 0
        print("targets missed: " + "; ".join(self.missed) + (" (quick run: not a verdict)" if self.quick else ""))
        return 0 if self.quick else 1
