"""Run every ``bench_*.py`` in this folder in turn (`make bench`); ``--quick`` is the smoke run `make test` uses.

A full run exits 1 when a benchmark misses a stated target or fails. A quick run judges no target (each benchmark's
own ``--quick`` prints its targets without a verdict) but still exits 1 when a benchmark crashes or overruns its
time limit, so a benchmark that no longer runs cannot go unnoticed.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
QUICK_LIMIT = 900.0  # seconds one quick benchmark may take on a loaded CI machine before the smoke run fails
FULL_LIMIT = 3600.0


def benchmarks() -> list[Path]:
    """Every benchmark script, in name order (a new ``bench_*.py`` is picked up without registering it)."""
    return sorted(HERE.glob("bench_*.py"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a fast smoke run of each benchmark; no verdict")
    args, rest = parser.parse_known_args()
    limit = QUICK_LIMIT if args.quick else FULL_LIMIT
    extra = ["--quick", *rest] if args.quick else rest
    failed: list[str] = []
    for script in benchmarks():
        print(f"\n=== {script.name} ===", flush=True)
        started = time.perf_counter()
        try:
            code = subprocess.call([sys.executable, str(script), *extra], timeout=limit)
        except subprocess.TimeoutExpired:
            print(f"{script.name}: still running after {limit:.0f}s, stopped", flush=True)
            code = -1
        print(f"--- {script.name}: exit {code} in {time.perf_counter() - started:.1f}s", flush=True)
        if code != 0:
            failed.append(script.name)
    print("\n" + (f"failed: {', '.join(failed)}" if failed else f"all {len(benchmarks())} benchmarks ran"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
