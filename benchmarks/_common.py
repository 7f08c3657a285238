"""Small helpers shared by the benchmarks: medians of repeated timings, a table printer, and the targets and figures
a benchmark hands to run_all.py (which stores them in benchmarks/results/)."""

from __future__ import annotations

import gc
import json
import os
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def median_time(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """Median wall time of ``repeats`` calls, and the last call's result."""
    times, result = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


@contextmanager
def frozen_collector() -> Iterator[None]:
    """What the process holds frozen out of the garbage collector and young collections rarer, as ``load`` and the
    live simulator run their sends (harness.core.collector); restored after."""
    from harness.core.collector import fewer_young_collections

    gc.collect()
    gc.freeze()
    try:
        with fewer_young_collections():
            yield
    finally:
        gc.unfreeze()


def table(rows: list[tuple[str, ...]]) -> str:
    """Left-aligned columns."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows)


RESULT_ENV = "BENCH_RESULT_FILE"  # run_all.py names the file each benchmark writes its figures and targets to


class Targets:
    """The targets a benchmark states, checked: the exit code is 1 when one is missed (0 for a --quick smoke run).

    It also collects the benchmark's figures; ``exit_code`` writes figures and targets as JSON to the file named by
    ``$BENCH_RESULT_FILE`` when run_all.py set it, so every run can be stored and plotted.
    """

    def __init__(self, quick: bool) -> None:
        self.quick = quick
        self.missed: list[str] = []
        self.targets: list[dict[str, Any]] = []
        self.figures: dict[str, dict[str, Any]] = {}

    def figure(self, name: str, value: float, unit: str, better: str = "higher") -> None:
        """Record one figure (``better`` is "higher" or "lower": which way is an improvement)."""
        self.figures[name] = {"value": float(value), "unit": unit, "better": better}

    def expect(self, met: bool, what: str) -> None:
        """Record one target."""
        self.targets.append({"target": what, "met": bool(met)})
        if not met:
            self.missed.append(what)

    def exit_code(self) -> int:
        """Print the verdict (and write the result file); 1 if a target was missed in a full run."""
        self._write()
        if not self.missed:
            print("targets: all met")
            return 0
        print("targets missed: " + "; ".join(self.missed) + (" (quick run: not a verdict)" if self.quick else ""))
        return 0 if self.quick else 1

    def _write(self) -> None:
        path = os.environ.get(RESULT_ENV)
        if path:
            Path(path).write_text(json.dumps({"figures": self.figures, "targets": self.targets}, indent=1))
