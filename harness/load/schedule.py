"""When each request of a load run starts: an open-model arrival schedule, fixed before the run begins.

Requests start on schedule whatever the responses do (like k6's arrival-rate executors). A batch provider
(SendGrid) turns the event arrivals into posts as it does: one buffer per sending server, flushed every interval or
when it reaches its size cap.
"""

from __future__ import annotations

import math
import random
from array import array
from collections.abc import Sequence
from dataclasses import dataclass

from harness.catalog import Provider
from harness.errors import UsageError
from harness.simulate.batching import BatchPlan, batch_events

__all__ = ["Schedule", "open_schedule", "parse_ramp"]

MAX_STARTS = 5_000_000  # a bound on the size of one run's schedule
_RESEND_DELAY = 2.0  # a duplicate arrives up to this long after its original (a provider retry of a lost answer)


@dataclass
class Schedule:
    """Start times (seconds from the run's start, sorted), and which delivery and attempt each start sends."""

    times: array[float]
    units: array[int]
    attempts: array[int]  # 1: the delivery's first send; >1: a resend with the same keys and a fresh signature
    unit_sizes: array[int]  # events per delivery (1 unless batched)
    duration: float
    target_rate: float  # events per second the schedule starts (resends included; the mean over a ramp)
    label: str = "open"

    @property
    def starts(self) -> int:
        """How many requests the schedule starts."""
        return len(self.times)

    @property
    def units_count(self) -> int:
        """How many distinct deliveries."""
        return len(self.unit_sizes)

    @property
    def events(self) -> int:
        """How many distinct events the deliveries carry."""
        return sum(self.unit_sizes)

    def per_second(self) -> list[int]:
        """Scheduled starts in each second of the run."""
        out = [0] * max(1, math.ceil(self.duration - 1e-9))
        last = len(out) - 1
        for t in self.times:
            out[min(last, int(t))] += 1
        return out

    def share(self, index: int, parts: int) -> Schedule:
        """The starts of every ``parts``-th delivery (all of a delivery's attempts stay together), for one process."""
        keep = [i for i, u in enumerate(self.units) if u % parts == index]
        return Schedule(
            times=array("d", [self.times[i] for i in keep]),
            units=array("q", [self.units[i] for i in keep]),
            attempts=array("l", [self.attempts[i] for i in keep]),
            unit_sizes=self.unit_sizes,
            duration=self.duration,
            target_rate=self.target_rate / parts,
            label=self.label,
        )


def parse_ramp(text: str) -> tuple[float, float]:
    """``N..M`` as two rates (events per second), each >= 0 and not both 0."""
    low, sep, high = text.partition("..")
    try:
        start, end = float(low), float(high)
    except ValueError:
        start = end = math.nan
    if not sep or not (math.isfinite(start) and math.isfinite(end)) or start < 0 or end < 0 or start + end <= 0:
        raise UsageError(f"--ramp must be N..M with rates >= 0, not both 0 (e.g. 10..200), got {text!r}.")
    return start, end


def _arrivals(rate: float, duration: float, ramp: tuple[float, float] | None) -> array[float]:
    """Evenly spaced arrivals at ``rate``, or along a linear ramp: the i-th where the cumulative count reaches i."""
    if ramp is None:
        count = int(rate * duration + 1e-9)
        _check_size(count)
        step = 1.0 / rate
        return array("d", [i * step for i in range(count)])
    start, end = ramp
    slope = (end - start) / duration
    count = int((start + end) / 2 * duration + 1e-9)
    _check_size(count)
    out = array("d")
    for i in range(count):
        if abs(slope) < 1e-12:
            t = i / start
        else:  # start*t + slope*t^2/2 = i
            t = (-start + math.sqrt(start * start + 2 * slope * i)) / slope
        out.append(min(t, duration))
    return out


def _check_size(count: int) -> None:
    if count > MAX_STARTS:
        raise UsageError(f"That run schedules {count:,} deliveries; the limit is {MAX_STARTS:,} (use --processes).")


def open_schedule(
    provider: Provider,
    *,
    rate: float,
    duration: float,
    ramp: tuple[float, float] | None = None,
    duplicates: float = 0.0,
    servers: int = 1,
    seed: int = 0,
    batch_plan: BatchPlan | None = None,
) -> Schedule:
    """Events at ``rate`` per second (or along ``ramp``) for ``duration`` seconds, as the provider posts them."""
    if duration <= 0:
        raise UsageError(f"--duration must be positive, got {duration:g}s.")
    if ramp is None and rate <= 0:
        raise UsageError(f"--rate must be above 0, got {rate:g}.")
    if not 0.0 <= duplicates <= 1.0:
        raise UsageError(f"--duplicates is a fraction between 0 and 1, got {duplicates:g}.")
    arrivals = _arrivals(rate, duration, ramp)
    rng = random.Random(seed)
    if provider.body.shape == "batch":
        times, sizes = _batched(provider, arrivals, duration, max(1, servers), rng, batch_plan)
    else:
        times, sizes = arrivals, array("l", [1]) * len(arrivals)
    return _with_resends(times, sizes, duration, duplicates, rng)


def _batched(
    provider: Provider,
    arrivals: Sequence[float],
    duration: float,
    servers: int,
    rng: random.Random,
    plan: BatchPlan | None,
) -> tuple[array[float], array[int]]:
    """Posts of a batch provider: events spread over ``servers`` buffers, each flushing on its own phase."""
    chosen = plan or _within_cap(provider, BatchPlan.for_provider(provider, seed=rng.randrange(1 << 30)))
    posts: list[tuple[float, int]] = []
    for server in range(servers):
        phase = rng.random() * chosen.interval  # servers do not flush in step
        mine = array("d", [t + phase for t in arrivals[server::servers]])
        if not mine:
            continue
        flushes, starts = batch_events(mine, chosen.interval, chosen.max_events)
        ends = [*starts[1:], len(mine)]
        for flush, first, last in zip(flushes, starts, ends, strict=True):
            posts.append((min(flush - phase, duration), last - first))  # what is buffered at the end is flushed then
    posts.sort()
    return array("d", [t for t, _ in posts]), array("l", [n for _, n in posts])


def _within_cap(provider: Provider, plan: BatchPlan, samples: int = 256) -> BatchPlan:
    """The plan with an event count sized on the largest sampled event, not the mean, plus a tenth: the batches a
    run posts stay under the provider's byte cap (the sender still cuts a batch that would not)."""
    import json
    from dataclasses import replace

    from harness.volume import VolumeGenerator

    body = provider.body
    largest = max(
        len(json.dumps(payload, separators=body.separators, sort_keys=body.sort_keys, ensure_ascii=False).encode())
        for _, payload in VolumeGenerator(provider, seed=1).events(samples)
    )
    fits = max(1, int((plan.max_bytes - len(body.suffix) - 2) // ((largest + 1) * 1.1)))
    return replace(plan, max_events=min(plan.max_events, fits))


def _with_resends(
    times: Sequence[float], sizes: array[int], duration: float, fraction: float, rng: random.Random
) -> Schedule:
    """Add a resend (same delivery, later) for ``fraction`` of the deliveries, within the run."""
    starts = [(t, u, 1) for u, t in enumerate(times)]
    if fraction > 0 and times:
        # exactly round(fraction x deliveries) resends, at least one: a few large batches still get their share
        count = min(len(times), max(1, round(fraction * len(times))))
        rand = rng.random
        for u in sorted(rng.sample(range(len(times)), count)):
            starts.append((min(duration, times[u] + rand() * _RESEND_DELAY), u, 2))
        starts.sort()
    _check_size(len(starts))
    scheduled = sum(sizes[u] for _, u, _ in starts)
    return Schedule(
        times=array("d", [t for t, _, _ in starts]),
        units=array("q", [u for _, u, _ in starts]),
        attempts=array("l", [k for _, _, k in starts]),
        unit_sizes=sizes,
        duration=duration,
        target_rate=scheduled / duration,
    )
