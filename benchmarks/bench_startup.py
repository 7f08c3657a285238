"""CLI start-up time against ``python -c "import requests"``, measured side by side in one run.

.venv/bin/python benchmarks/bench_startup.py [--rounds 15] [--quick]

Targets: ``webhook-harness providers`` within 1.5x the baseline and ``webhook-harness --help`` within 1.0x. Each round
runs the baseline and every command once, interleaved, in fresh interpreters (as a user's shell does), so a busy
machine slows all sides alike; the figures are medians of wall time.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Targets, table

_SCRIPT = Path(sys.executable).with_name("webhook-harness")
CLI = [str(_SCRIPT)] if _SCRIPT.is_file() else [sys.executable, "-m", "harness"]
BASELINE = ("python -c 'import requests'", [sys.executable, "-c", "import requests"])
COMMANDS = [
    ("webhook-harness --help", [*CLI, "--help"], 1.0),
    ("webhook-harness providers", [*CLI, "providers"], 1.5),
    ("webhook-harness providers --details", [*CLI, "providers", "--details"], None),
]


def wall(argv: list[str]) -> float:
    """Wall time of one run of ``argv``, which must exit 0."""
    started = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--quick", action="store_true", help="1 round: a smoke run, not a verdict")
    args = parser.parse_args()
    rounds = 1 if args.quick else args.rounds

    for _, argv in [(BASELINE[0], BASELINE[1]), *[(n, a) for n, a, _ in COMMANDS]]:
        wall(argv)  # warm the file-system cache and byte-code first
    samples: dict[str, list[float]] = {BASELINE[0]: [], **{name: [] for name, _, _ in COMMANDS}}
    for _ in range(rounds):
        samples[BASELINE[0]].append(wall(BASELINE[1]))
        for name, argv, _ in COMMANDS:
            samples[name].append(wall(argv))

    base = statistics.median(samples[BASELINE[0]])
    targets = Targets(args.quick)
    rows: list[tuple[str, ...]] = [("command", "median", "vs baseline", "target")]
    rows.append((BASELINE[0], f"{base * 1000:.0f} ms", "1.00x", "baseline"))
    targets.figure(BASELINE[0], base * 1000, "ms", better="lower")
    for name, _, limit in COMMANDS:
        med = statistics.median(samples[name])
        ratio = med / base
        rows.append((name, f"{med * 1000:.0f} ms", f"{ratio:.2f}x", f"<= {limit:g}x" if limit else "-"))
        targets.figure(f"{name} / baseline", ratio, "x", better="lower")
        if limit is not None:
            targets.expect(ratio <= limit, f"{name} <= {limit:g}x the baseline")
    print(f"{rounds} rounds, medians of wall time, fresh interpreter per run")
    print(table(rows))
    return targets.exit_code()


if __name__ == "__main__":
    sys.exit(main())
