"""One full `check` per provider against the reference receiver: median seconds (target <= 10 s per provider).

.venv/bin/python benchmarks/bench_check.py [--repeats 3] [--quick]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Targets, table

from harness.catalog import load_catalog
from harness.engine.runner import RunConfig, run_checks
from harness.probes.counts import make_probe
from harness.receiver import ReferenceReceiver

QUICK_PROVIDERS = ("sendgrid", "stripe", "oci")
QUICK_EXAMPLES = 5  # fuzz examples per check in the smoke run (every check still runs)


def one(provider: str, seed: int, max_examples: int | None = None) -> tuple[float, int]:
    """Seconds and requests of one full check run (``max_examples`` None: the default)."""
    with ReferenceReceiver(provider) as rx:
        config = RunConfig(provider, rx.url, rx.credentials, probe=make_probe(rx.probe_url), seed=seed)
        if max_examples is not None:
            config = dataclasses.replace(config, max_examples=max_examples)
        started = time.perf_counter()
        result = run_checks(config)
        elapsed = time.perf_counter() - started
    assert result.exit_code == 0, f"{provider}: the reference receiver failed a check"
    return elapsed, sum(o.requests for o in result.outcomes)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    repeats = 1 if args.quick else args.repeats
    rows = [("provider", "median s", "requests", "target")]
    summary = {}
    providers = [p.id for p in load_catalog()]
    if args.quick:  # the smoke run: a batch provider with ECDSA, an HMAC one with a timestamp, one with a handshake
        providers = [p for p in QUICK_PROVIDERS if p in providers]
    for provider in providers:
        runs = [one(provider, seed, QUICK_EXAMPLES if args.quick else None) for seed in range(repeats)]
        med = statistics.median(r[0] for r in runs)
        rows.append((provider, f"{med:.2f}", str(runs[0][1]), "<= 10 s"))
        summary[provider] = round(med, 3)
    print(f"webhook-harness check against the reference receiver (default 20 fuzz examples), medians of {repeats}")
    print(table(rows))
    print(f"slowest: {max(summary.values()):.2f} s (target <= 10 s)")
    print(json.dumps(summary))
    targets = Targets(args.quick)
    for provider, seconds in summary.items():
        targets.figure(f"check {provider}", seconds, "s", better="lower")
    targets.expect(max(summary.values()) <= 10, "every provider's check <= 10 s")
    return targets.exit_code()


if __name__ == "__main__":
    sys.exit(main())
