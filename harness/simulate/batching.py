"""SendGrid-style batching: events are posted every flush interval or when the batch reaches its size cap."""

from __future__ import annotations

import bisect
import json
import math
from array import array
from collections.abc import Sequence
from dataclasses import dataclass

from harness.catalog import Provider

__all__ = ["BatchPlan", "batch_events"]

_DEFAULT_INTERVAL = 30.0
_DEFAULT_MAX_BYTES = 786_432  # 768 KB


@dataclass(frozen=True)
class BatchPlan:
    """When a batch provider flushes: every ``interval`` seconds, or once ``max_events`` events are buffered."""

    interval: float
    max_bytes: int
    max_events: int
    event_bytes: float

    @classmethod
    def for_provider(cls, provider: Provider, *, seed: int = 0, samples: int = 64) -> BatchPlan:
        """The profile's ``body.batch`` facts; the size cap becomes an event count from sampled event sizes."""
        body = provider.body
        interval = body.flush_interval or _DEFAULT_INTERVAL
        max_bytes = body.batch_max_bytes or _DEFAULT_MAX_BYTES
        size = estimate_event_bytes(provider, seed=seed, samples=samples)
        by_bytes = max(1, int((max_bytes - len(body.suffix) - 2) // size))
        max_events = min(by_bytes, body.batch_max_events) if body.batch_max_events else by_bytes
        return cls(interval=interval, max_bytes=max_bytes, max_events=max_events, event_bytes=size)


def estimate_event_bytes(provider: Provider, *, seed: int = 0, samples: int = 64) -> float:
    """Mean encoded size of one event in a batch body (with its separating comma), from seeded payloads."""
    from harness.volume import VolumeGenerator

    generator = VolumeGenerator(provider, seed=seed)
    body = provider.body
    sizes = [
        len(json.dumps(payload, separators=body.separators, sort_keys=body.sort_keys, ensure_ascii=False).encode())
        for _, payload in generator.events(samples)
    ]
    return sum(sizes) / len(sizes) + 1.0


def batch_events(times: Sequence[float], interval: float, max_events: int) -> tuple[array[float], array[int]]:
    """Group sorted event times into batches: (flush time per batch, index of each batch's first event).

    A batch holds the events of one flush interval ``[k*interval, (k+1)*interval)`` and is posted at the interval's
    end, unless it fills up to ``max_events`` first: then it is posted at the arrival of the event that filled it.
    Batch ``b`` holds events ``starts[b]`` up to ``starts[b + 1]`` (or the end).
    """
    if interval <= 0 or max_events < 1:
        raise ValueError("interval must be positive and max_events at least 1")
    flushes: array[float] = array("d")
    starts: array[int] = array("q")
    n = len(times)
    i = 0
    while i < n:
        tick = (math.floor(times[i] / interval) + 1) * interval
        j = bisect.bisect_left(times, tick, i)
        while j - i >= max_events:
            flushes.append(times[i + max_events - 1])
            starts.append(i)
            i += max_events
        if i < j:
            flushes.append(tick)
            starts.append(i)
            i = j
    return flushes, starts
