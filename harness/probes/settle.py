"""Settle-wait for probe reads: an eventually consistent receiver stores a moment after it answers.

A read settles when every count is non-zero and has not changed for ``period`` seconds (or for as long as the first
store took, if that was longer: a receiver that lags 2 s may store a duplicate 2 s after the original), or when
``timeout`` passes (a count still at 0 then means nothing was stored). Clock and sleep are injected, so tests use a
virtual clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from harness.probes.counts import Probe

__all__ = ["DEFAULT_PERIOD", "DEFAULT_TIMEOUT", "Settled", "settle_counts"]

DEFAULT_TIMEOUT = 5.0
DEFAULT_PERIOD = 1.0
POLL_INTERVAL = 0.1


@dataclass(frozen=True, slots=True)
class Settled:
    """The counts once stable, how long they took to reach that value, and whether the timeout cut the wait."""

    counts: dict[str, int]
    settle_time: float
    timed_out: bool


def settle_counts(
    probe: Probe,
    keys: Sequence[str],
    *,
    timeout: float = DEFAULT_TIMEOUT,
    period: float = DEFAULT_PERIOD,
    interval: float = POLL_INTERVAL,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Settled:
    """Poll ``probe`` for every key until the counts are non-zero and stable for ``period``, or ``timeout`` passes."""
    period = min(period, timeout)
    unique = list(dict.fromkeys(keys))
    started = clock()
    counts = {key: probe.count(key) for key in unique}
    changed = started
    lag: float | None = 0.0 if all(counts.values()) else None  # how long until every key was stored at least once
    while True:
        now = clock()
        if lag is not None and now - changed >= max(period, lag):
            return Settled(counts, changed - started, False)
        if now - started >= timeout:
            return Settled(counts, changed - started, True)
        sleep(min(interval, max(0.0, started + timeout - now)))
        fresh = {key: probe.count(key) for key in unique}
        if fresh != counts:
            counts, changed = fresh, clock()
            if lag is None and all(counts.values()):
                lag = changed - started
