"""Dry runs that scale: arrivals drawn lazily in time order, each delivery's attempts worked out as it arrives, and
only aggregates kept, so memory follows what is in flight (one batch at most), not the number of events."""

from __future__ import annotations

import bisect
import heapq
import math
import random
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from harness.simulate.batching import BatchPlan
from harness.simulate.outages import Outages
from harness.simulate.policy import RetryPolicy
from harness.simulate.results import Outcome, Waits

__all__ = ["EXACT_ARRIVALS", "LazyTally", "ordered_uniform", "stream_batches", "tally", "uniform_arrivals"]

EXACT_ARRIVALS = 1_000_000  # up to this many events, arrival times are the eager workload's, draw for draw
_SORT_CHUNK = 1 << 17  # arrival times sorted at a time before the chunks are merged
_PROGRESS_EVERY = 1 << 16  # units between two progress reports


def uniform_arrivals(n: int, spread: float, rng: random.Random) -> Iterator[float]:
    """``n`` uniform times over ``spread`` seconds, ascending.

    Up to ``EXACT_ARRIVALS`` the times are those of ``sorted(rng.random() * spread for _ in range(n))`` (sorted in
    chunks, then merged: the same values in the same order). Beyond, they are drawn already sorted (uniform order
    statistics from products of ``U ** (1 / k)``): one draw per event and no event held in memory.
    """
    if n <= EXACT_ARRIVALS:
        return _sorted_draws(n, spread, rng)
    return ordered_uniform(n, spread, rng)


def _sorted_draws(n: int, spread: float, rng: random.Random) -> Iterator[float]:
    rand = rng.random
    chunks: list[array[float]] = []
    left = n
    while left:
        size = min(_SORT_CHUNK, left)
        chunks.append(array("d", sorted([rand() * spread for _ in range(size)])))
        left -= size
    if len(chunks) == 1:
        return iter(chunks[0])
    return heapq.merge(*chunks)


def ordered_uniform(n: int, spread: float, rng: random.Random) -> Iterator[float]:
    """``n`` uniform times over ``spread``, drawn in ascending order (one draw each, nothing held)."""
    rand = rng.random
    rest = 1.0  # the share of the spread after the last time drawn
    for k in range(n, 0, -1):
        rest *= (1.0 - rand()) ** (1.0 / k)  # 1 - rand() is in (0, 1]: never 0 ** x
        yield (1.0 - rest) * spread


def stream_batches(times: Iterable[float], interval: float, max_events: int) -> Iterator[tuple[float, list[float]]]:
    """``batching.batch_events`` over a stream of sorted times: (flush time, the batch's event times), in order."""
    group: list[float] = []
    tick = -math.inf
    for t in times:
        if t >= tick:
            if group:
                yield tick, group
                group = []
            tick = (math.floor(t / interval) + 1) * interval
        group.append(t)
        if len(group) >= max_events:
            yield t, group
            group = []
    if group:
        yield tick, group


@dataclass
class LazyTally:
    """What a lazy dry run adds up: the figures ``SimResult`` reports, without a per-event array."""

    events: int = 0  # events settled
    units: int = 0
    delivered: int = 0
    attempts: int = 0
    histogram: Counter[int] = field(default_factory=Counter)
    lost_by: Counter[int] = field(default_factory=Counter)
    waits: Waits = field(default_factory=Waits)
    timeline: list[tuple[float, int, int, str]] = field(default_factory=list)
    lead: float = 0.0
    interrupted: bool = False


def tally(
    *,
    events: int = 0,
    times: Iterable[float] | None = None,
    spread: float,
    seed: int,
    policy: RetryPolicy,
    outages: Outages,
    plan: BatchPlan | None,
    delays: list[float],
    timeline_samples: int,
    progress: Callable[[float, float], None] | None = None,
) -> LazyTally:
    """Every delivery of ``events`` uniform events, or of the sorted event ``times`` given (batched per ``plan``, or
    one each), with its attempts on the
    retry schedule, where the receiver is up outside ``outages``; deliveries are independent in a dry run, so each
    one's attempts are settled as it arrives. Identical figures to the eager loop for the same seed (jitter draws are
    made per delivery, in arrival order)."""
    out = LazyTally()
    if times is None:
        times = uniform_arrivals(events, spread, random.Random(seed))
    rand = random.Random(seed ^ 0x5EED).random
    ndelays, window, jitter = len(delays), policy.window, policy.jitter
    low, span = 1.0 - jitter, 2.0 * jitter
    starts, ends = outages.starts, outages.ends
    single = len(starts) == 1
    s0, e0 = (starts[0], ends[0]) if single else (math.inf, math.inf)
    bisect_right = bisect.bisect_right
    horizon = spread + (plan.interval if plan else 0.0) + sum(delays[:64])
    cap = max(1, timeline_samples)
    step, mask = 1, 0
    limit = cap + 1  # units seen when the timeline's sample step doubles
    timeline = out.timeline
    waits, histogram, lost_by = out.waits, out.histogram, out.lost_by
    delivered_code, exhausted, expired = Outcome.DELIVERED, Outcome.EXHAUSTED, Outcome.WINDOW

    def down(t: float) -> bool:
        if single:
            return s0 <= t < e0
        i = bisect_right(starts, t) - 1
        return i >= 0 and t < ends[i]

    def chain(t: float, newest: float, u: int, sampled: bool) -> tuple[float, int, int]:
        """The attempts of one delivery whose first attempt at ``t`` fell in an outage: (last time, attempts, end)."""
        k = 1
        while True:
            if sampled:
                timeline.append((t, u, k, "outage"))
            if k > ndelays:
                return t, k, exhausted
            t += delays[k - 1] * (low + span * rand()) if jitter else delays[k - 1]
            if window is not None and t - newest > window:
                return t, k, expired
            k += 1
            if not down(t):
                if sampled:
                    timeline.append((t, u, k, "delivered"))
                return t, k, delivered_code

    first_ok = 0  # single events delivered at their first attempt (the common case, counted apart for speed)
    u = -1
    lead = 0.0
    try:
        if plan is None:
            for u, arrival in enumerate(times):
                if u + 1 >= limit:
                    step, mask, limit = _coarser(timeline, step, cap, u + 1)
                if progress is not None and not u & 0xFFFF:
                    progress(arrival, horizon)
                if not (s0 <= arrival < e0 if single else starts and down(arrival)):
                    first_ok += 1
                    if not u & mask:
                        timeline.append((arrival, u, 1, "delivered"))
                    continue
                t, k, code = chain(arrival, arrival, u, not u & mask)
                out.attempts += k
                histogram[k] += 1
                if code == delivered_code:
                    out.delivered += 1
                    waits.add(t - arrival)
                else:
                    lost_by[code] += 1
        else:
            for u, (arrival, group) in enumerate(stream_batches(times, plan.interval, plan.max_events)):
                if u + 1 >= limit:
                    step, mask, limit = _coarser(timeline, step, cap, u + 1)
                if progress is not None and not u & 0xFFF:
                    progress(arrival, horizon)
                size = len(group)
                lead = max(lead, arrival - group[0])
                if starts and down(arrival):
                    t, k, code = chain(arrival, group[-1], u, not u & mask)
                else:
                    t, k, code = arrival, 1, delivered_code
                    if not u & mask:
                        timeline.append((arrival, u, 1, "delivered"))
                out.attempts += k
                histogram[k] += size
                if code != delivered_code:
                    lost_by[code] += size
                    continue
                late = [t - e for e in group]
                if window is not None and late[0] > window:  # events older than the window are not delivered
                    kept = [w for w in late if w <= window]
                    lost_by[expired] += size - len(kept)
                    late = kept
                out.delivered += len(late)
                waits.extend(late)
    except KeyboardInterrupt:
        out.interrupted = True  # Ctrl-C: what was settled so far is the result
    out.units = u + 1
    out.delivered += first_ok
    out.attempts += first_ok
    if first_ok:
        histogram[1] += first_ok
        waits.zeros += first_ok
    out.lead = lead
    out.events = out.delivered + sum(lost_by.values())
    return out


def _coarser(timeline: list[tuple[float, int, int, str]], step: int, cap: int, seen: int) -> tuple[int, int, int]:
    """Double the timeline's sample step until ``seen`` units give at most ``cap`` rows' worth of deliveries (as the
    eager loop picks it from the final count), dropping the rows no longer sampled: (step, mask, next limit)."""
    while seen // step > cap:
        step *= 2
    mask = step - 1
    timeline[:] = [row for row in timeline if not row[1] & mask]
    return step, mask, (cap + 1) * step
