"""Event-sequence benchmark: 100 Hypothesis-drawn schedules of Stripe's subscription lifecycle against the correct
reference receiver over loopback HTTP (signing, sending, state reads), each schedule to a fresh object.

Target: 100 schedules in under 30 s on a 2-core machine (docs/sequences.md states the figure).

    .venv/bin/python benchmarks/bench_sequences.py [--schedules 100] [--concurrency 2] [--quick]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Targets, table

from harness.receiver import ReferenceReceiver
from harness.sequences import SequenceOptions, SequenceRunner, make_state_probe
from harness.transport import RequestsTransport

TARGET_SECONDS = 30.0
PROVIDER, LIFECYCLE = "stripe", "subscription"


def run(schedules: int, concurrency: int) -> tuple[float, int, bool]:
    """Seconds for the reference run plus ``schedules`` drawn schedules, the requests sent, and the verdict."""
    with ReferenceReceiver(PROVIDER) as rx:
        probe = make_state_probe(rx.state_url)
        assert probe is not None
        options = SequenceOptions(max_examples=schedules, seed=1, settle_timeout=2.0, concurrency=concurrency)
        with SequenceRunner(rx.provider, rx.url, rx.credentials, RequestsTransport(), probe, options) as runner:
            started = time.perf_counter()
            result = runner.run(rx.provider.lifecycle(LIFECYCLE))
            return time.perf_counter() - started, result.requests, result.passed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schedules", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="4 schedules, no verdict")
    args = parser.parse_args()
    schedules = 4 if args.quick else args.schedules
    seconds, requests, passed = run(schedules, args.concurrency)
    print(
        table(
            [
                ("lifecycle", "schedules", "requests", "seconds", "per schedule"),
                (
                    f"{PROVIDER} {LIFECYCLE}",
                    str(schedules),
                    str(requests),
                    f"{seconds:.2f}",
                    f"{seconds / schedules:.3f}",
                ),
            ]
        )
    )
    targets = Targets(args.quick)
    targets.figure("100 schedules", seconds * 100 / schedules, "s", better="lower")
    targets.expect(passed, "the correct receiver converges")
    scaled = seconds * 100 / schedules
    print(f"100 schedules: {scaled:.1f} s (target < {TARGET_SECONDS:.0f} s)")
    targets.expect(scaled < TARGET_SECONDS, f"100 schedules in under {TARGET_SECONDS:.0f} s")
    return targets.exit_code()


if __name__ == "__main__":
    sys.exit(main())
