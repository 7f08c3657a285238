"""Run every benchmark in turn (`make bench`); pass --quick for a fast smoke run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHMARKS = ["bench_generation.py", "bench_signing.py", "bench_check.py", "bench_simulate.py", "bench_load.py"]


def main() -> int:
    failures = 0
    for name in BENCHMARKS:
        print(f"\n=== {name} ===", flush=True)
        failures += subprocess.call([sys.executable, str(HERE / name), *sys.argv[1:]]) != 0
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
