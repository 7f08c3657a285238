"""What a simulation found: delivered, lost, attempts, time to delivery, and the outage the policy survives."""

from __future__ import annotations

import math
import random
from array import array
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from harness.core.durations import format_duration
from harness.probes.counts import Probe
from harness.simulate.outages import Outages
from harness.simulate.policy import RetryPolicy
from harness.simulate.workload import Workload

__all__ = ["Outcome", "RunFacts", "SimResult", "Waits", "summarise"]

PROBE_SAMPLE = 2_000


class Outcome:
    """Per-delivery end states, and the arrays the event loop leaves behind."""

    PENDING: ClassVar[int] = 0
    IN_FLIGHT: ClassVar[int] = 1
    DELIVERED: ClassVar[int] = 2
    EXHAUSTED: ClassVar[int] = 3
    WINDOW: ClassVar[int] = 4
    NOT_RETRYABLE: ClassVar[int] = 5
    TOLD_NOT_TO: ClassVar[int] = 6
    DISABLED: ClassVar[int] = 7
    REASONS: ClassVar[dict[int, str]] = {
        3: "retries exhausted",
        4: "retry window expired",
        5: "failure not retried",
        6: "receiver asked for no retry",
        7: "endpoint disabled",
    }

    def __init__(
        self,
        *,
        delivered_at: array[float],
        attempts_of: array[int],
        state: array[int],
        requests: int,
        timeline: list[tuple[float, int, int, str]],
        disabled_at: float | None,
        stopped: bool,
        failures: dict[str, int] | None = None,
    ) -> None:
        self.delivered_at = delivered_at
        self.attempts_of = attempts_of
        self.state = state
        self.requests = requests
        self.timeline = timeline
        self.disabled_at = disabled_at
        self.stopped = stopped
        self.failures = failures or {}


@dataclass
class SimResult:
    """The report of one simulation."""

    provider: str
    policy: str
    events: int
    deliveries: int
    delivered: int
    lost: int
    pending: int
    attempts: int
    requests: int
    histogram: dict[int, int]
    time_to_delivery: dict[str, float]
    survivable_outage: float
    outages: list[tuple[float, float]]
    wall: float
    dry_run: bool
    disabled_at: float | None = None
    lost_by_reason: dict[str, int] = field(default_factory=dict)
    probe_checked: int = 0
    probe_mismatches: list[tuple[str, int]] = field(default_factory=list)
    unacknowledged: int = 0  # stored by the receiver (the probe says so) though no attempt was acknowledged
    unacknowledged_checked: int = 0  # failed events the probe looked up; fewer than all when sampled
    unacknowledged_of: int = 0  # failed events there were to look up
    timeline: list[tuple[float, int, int, str]] = field(default_factory=list)
    failed_attempts: dict[str, int] = field(default_factory=dict)  # real requests that failed, by status or error
    probe_of: int = 0  # delivered events there were to look up (probe_checked is fewer when sampled)
    interrupted: bool = False  # Ctrl-C stopped the run: the figures are partial
    objects: int = 0  # lifecycle objects whose every step was delivered (with --lifecycle and a state probe)
    objects_checked: int = 0  # of those, how many the state probe read
    objects_wrong: list[tuple[str, str]] = field(default_factory=list)  # (object id, the state the receiver holds)
    objects_incomplete: int = 0  # objects with a step lost: nothing to compare with

    @property
    def exit_code(self) -> int:
        """0: nothing lost and (with a probe) every event stored once; 1 otherwise; 130 when Ctrl-C stopped it."""
        if self.interrupted:
            return 130
        wrong = self.probe_mismatches or self.unacknowledged or self.objects_wrong
        return 1 if self.lost or self.pending or wrong else 0

    @property
    def lost_to_failures(self) -> int:
        """Events lost for reasons no outage length explains: not retried, told not to, endpoint disabled."""
        outage_like = (Outcome.REASONS[Outcome.EXHAUSTED], Outcome.REASONS[Outcome.WINDOW])
        if math.isinf(self.survivable_outage):  # retries never end: whatever was lost, an outage did not do it
            return sum(self.lost_by_reason.values())
        return sum(n for why, n in self.lost_by_reason.items() if why not in outage_like)

    def to_json(self) -> dict[str, Any]:
        """The JSON report."""
        survivable = None if math.isinf(self.survivable_outage) else self.survivable_outage
        return {
            "provider": self.provider,
            "policy": self.policy,
            "dry_run": self.dry_run,
            "events": self.events,
            "deliveries": self.deliveries,
            "delivered": self.delivered,
            "lost": self.lost,
            "lost_by_reason": self.lost_by_reason,
            "failed_requests": dict(sorted(self.failed_attempts.items())),
            "stored_unacknowledged": self.unacknowledged,
            "stored_unacknowledged_checked": {"checked": self.unacknowledged_checked, "of": self.unacknowledged_of},
            "pending_when_stopped": self.pending,
            "attempts": self.attempts,
            "requests_sent": self.requests,
            "attempts_per_event": {str(k): v for k, v in sorted(self.histogram.items())},
            "time_to_delivery_seconds": self.time_to_delivery,
            "outages": [{"start": s, "end": e} for s, e in self.outages],
            "max_survivable_outage_seconds": survivable,
            "max_survivable_outage_applies": not (self.lost and self.lost_to_failures),
            "endpoint_disabled_at": self.disabled_at,
            "probe": {"checked": self.probe_checked, "mismatches": [list(m) for m in self.probe_mismatches]},
            "objects": {
                "complete": self.objects,
                "checked": self.objects_checked,
                "wrong_state": len(self.objects_wrong),
                "wrong": [{"id": i, "state": st} for i, st in self.objects_wrong[:100]],
                "incomplete": self.objects_incomplete,
            },
            "wall_seconds": round(self.wall, 3),
            "exit_code": self.exit_code,
            "interrupted": self.interrupted,
        }

    def render(self) -> str:
        """The terminal summary."""

        def pct(n: int) -> str:
            return f"{100 * n / self.events:.2f}%" if self.events else "-"

        lines = [
            *(
                ["interrupted: partial results (events not yet settled are counted as pending)"]
                if self.interrupted
                else []
            ),
            f"provider {self.provider}: {self.policy}",
            f"events {self.events:,} in {self.deliveries:,} deliveries; attempts {self.attempts:,}"
            + ("" if self.dry_run else f" ({self.requests:,} real requests)"),
            f"delivered {self.delivered:,} ({pct(self.delivered)}), lost {self.lost:,} ({pct(self.lost)})"
            + (f", still pending when stopped {self.pending:,}" if self.pending else ""),
        ]
        if self.lost_by_reason:
            lines.append("lost: " + ", ".join(f"{why} {n:,}" for why, n in self.lost_by_reason.items()))
        if self.unacknowledged:
            sampled = self.unacknowledged_checked < self.unacknowledged_of
            lines.append(
                f"stored but unacknowledged {self.unacknowledged:,}"
                + (f" of a probe sample of {self.unacknowledged_checked:,} failed events" if sampled else "")
                + ": the receiver stored them but no reply said so; a real provider would redeliver them"
            )
        if self.failed_attempts:
            failed = sum(self.failed_attempts.values())
            shown = ", ".join(f"{kind} {n:,}" for kind, n in sorted(self.failed_attempts.items(), key=lambda i: -i[1]))
            lines.append(f"failed requests {failed:,}: {shown}")
            if len(self.failed_attempts) == 1 and failed == self.requests:
                kind = next(iter(self.failed_attempts))
                cause = {"HTTP 401": "check the secret, key or token", "HTTP 403": "check the secret, key or token",
                         "HTTP 404": "check the URL"}.get(kind, "check the receiver")  # fmt: skip
                lines.append(f"all {failed:,} requests got {kind}: {cause}")
        if self.outages:
            shown = ", ".join(f"{_dur(s)}..{_dur(e)}" for s, e in self.outages)
            lines.append(f"outages: {shown}")
        if self.disabled_at is not None:
            lines.append(f"the endpoint was disabled at t={_dur(self.disabled_at)}")
        hist = ", ".join(f"{k}: {v:,}" for k, v in sorted(self.histogram.items())[:12])
        lines.append(f"attempts per event: {hist}")
        if self.time_to_delivery:
            ttd = ", ".join(f"{k} {_dur(v)}" for k, v in self.time_to_delivery.items())
            lines.append(f"time to delivery: {ttd}")
        if self.probe_checked:
            verdict = "all stored exactly once" if not self.probe_mismatches else f"{len(self.probe_mismatches)} wrong"
            sampled = self.probe_of > self.probe_checked
            scope = (
                f"a seeded sample of {self.probe_checked:,} of {self.probe_of:,} delivered events checked"
                " (--probe-sample 0 checks every one)"
                if sampled
                else f"{self.probe_checked:,} events checked"
            )
            lines.append(f"probe: {scope}, {verdict}")
            lines.extend(f"  {key}: stored {count} times" for key, count in self.probe_mismatches[:10])
        if self.objects_checked:
            wrong = len(self.objects_wrong)
            verdict = "every one in its final state" if not wrong else f"{wrong:,} ended in the wrong state"
            lines.append(
                f"objects: {self.objects_checked:,} of {self.objects:,} fully delivered objects read, {verdict}"
                + (f"; {self.objects_incomplete:,} lost a step" if self.objects_incomplete else "")
            )
            lines.extend(f"  {object_id}: the receiver holds {state}" for object_id, state in self.objects_wrong[:10])
        survivable = "unbounded" if math.isinf(self.survivable_outage) else _dur(self.survivable_outage)
        line = f"longest outage this policy survives with zero loss, wherever it starts: {survivable}"
        if self.lost and self.lost_to_failures:
            line += (
                f" (outages alone; {self.lost_to_failures:,} events were lost to failures that retries do not cure:"
                " see the reasons above)"
            )
        lines.append(line)
        lines.append(f"simulated in {self.wall:.2f}s")
        return "\n".join(lines)


def _dur(seconds: float) -> str:
    return format_duration(seconds) if seconds else "0s"


EXACT_WAITS = 1 << 20  # delayed events whose waits are kept one by one (8 MB); a fine histogram beyond
_SHIFT = 42  # a wait's bucket: its float's bits above the 10 leading mantissa bits (at most 0.1% wide)


class Waits:
    """Time from each event to its delivery, for the percentiles: exact up to ``EXACT_WAITS`` delayed events, then a
    log histogram whose buckets are at most 0.1% wide (the maximum stays exact), so memory stays bounded."""

    def __init__(self) -> None:
        self.zeros = 0  # events delivered at once
        self.exact: array[float] | None = array("d")
        self.buckets: Counter[int] = Counter()
        self.largest = 0.0

    def add(self, wait: float) -> None:
        """One event's wait (0: at once)."""
        if wait > 0:
            self.extend([wait])
        else:
            self.zeros += 1

    def extend(self, waits: list[float]) -> None:
        """Several events' waits."""
        positive: Sequence[float] = [w for w in waits if w > 0]
        self.zeros += len(waits) - len(positive)
        if not positive:
            return
        self.largest = max(self.largest, max(positive))
        if self.exact is not None:
            self.exact.extend(positive)
            if len(self.exact) <= EXACT_WAITS:
                return
            positive, self.exact = self.exact, None
        bits = array("q")
        bits.frombytes(array("d", positive).tobytes())
        self.buckets.update([b >> _SHIFT for b in bits])

    def percentiles(self) -> dict[str, float]:
        """p50/p90/p99/max of the waits (empty when no event was delivered)."""
        if self.exact is not None:
            return _percentiles(sorted(self.exact), self.zeros)
        zeros = self.zeros
        total = zeros + sum(self.buckets.values())
        keys = sorted(self.buckets)

        def at(q: float) -> float:
            index = min(total - 1, math.ceil(q * total) - 1)
            if index < zeros:
                return 0.0
            seen = zeros
            for key in keys:
                seen += self.buckets[key]
                if index < seen:
                    return min(self.largest, _middle(key))
            return self.largest

        return {"p50": at(0.5), "p90": at(0.9), "p99": at(0.99), "max": self.largest}


def _middle(key: int) -> float:
    """The float in the middle of a bucket."""
    return array("d", array("q", [(key << _SHIFT) | (1 << (_SHIFT - 1))]).tobytes())[0]


def _percentiles(nonzero: list[float], zeros: int) -> dict[str, float]:
    """p50/p90/p99/max of the waits (``nonzero`` sorted; ``zeros`` of them were immediate)."""
    total = len(nonzero) + zeros
    if not total:
        return {}

    def at(q: float) -> float:
        index = min(total - 1, math.ceil(q * total) - 1)
        return 0.0 if index < zeros else nonzero[index - zeros]

    return {"p50": at(0.5), "p90": at(0.9), "p99": at(0.99), "max": nonzero[-1] if nonzero else 0.0}


@dataclass(frozen=True)
class RunFacts:
    """What the summary needs to know about the run besides its outcome."""

    provider: str
    outages: Outages
    dry_run: bool
    seed: int
    probe: Probe | None
    probe_sample: int = PROBE_SAMPLE  # events the probe looks up at most; 0: every one
    probe_progress: Callable[[int, int], None] | None = None  # (events looked up, events to look up)


def summarise(
    *,
    config: RunFacts,
    policy: RetryPolicy,
    workload: Workload,
    outcome: Outcome,
    wall: float,
    keys: Callable[[int], tuple[str, ...]] | None,
) -> SimResult:
    """Tally per event: a batch counts each of its events, a resend counts none of its own."""
    delivered_at, state = outcome.delivered_at, outcome.state
    times = workload.event_times
    lost_by: Counter[int] = Counter()
    waits = Waits()
    histogram: Counter[int]
    if workload.starts is None:
        histogram = Counter(outcome.attempts_of)
        waits.extend([d - a for d, a in zip(delivered_at, times, strict=True) if d >= 0])
        delivered = len(delivered_at) - delivered_at.count(-1.0)
        pending = state.count(Outcome.PENDING) + state.count(Outcome.IN_FLIGHT) if outcome.stopped else 0
        for code in Outcome.REASONS:
            lost_by[code] = state.count(code)
    else:
        histogram = Counter()
        delivered = pending = 0
        done = array("d", [-1.0]) * workload.events
        window = policy.window
        for u in range(workload.units):
            d = delivered_at[u]
            if d < 0:
                continue
            for e in workload.unit_events(u):
                if (window is None or d - times[e] <= window) and (done[e] < 0 or d < done[e]):
                    done[e] = d
        dup = workload.duplicate_of
        for u in range(workload.units):
            if dup is not None and dup[u] >= 0:
                continue
            histogram[outcome.attempts_of[u]] += workload.unit_size(u)
            code = state[u]
            for e in workload.unit_events(u):
                d = done[e]
                if d >= 0:
                    delivered += 1
                    waits.add(d - times[e])
                elif outcome.stopped and code in (Outcome.PENDING, Outcome.IN_FLIGHT):
                    pending += 1
                else:
                    lost_by[Outcome.WINDOW if code == Outcome.DELIVERED else code] += 1
    events = workload.events
    result = SimResult(
        provider=config.provider,
        policy=policy.describe(),
        events=events,
        deliveries=workload.units,
        delivered=delivered,
        lost=events - delivered - pending,
        pending=pending,
        attempts=sum(outcome.attempts_of),
        requests=outcome.requests,
        histogram=dict(sorted(histogram.items())),
        time_to_delivery=waits.percentiles(),
        survivable_outage=policy.max_survivable_outage(lead=workload.lead),
        outages=list(config.outages.windows),
        wall=wall,
        dry_run=config.dry_run,
        disabled_at=outcome.disabled_at,
        lost_by_reason={Outcome.REASONS[c]: n for c, n in sorted(lost_by.items()) if n and c in Outcome.REASONS},
        timeline=outcome.timeline,
        failed_attempts=dict(outcome.failures),
    )
    if config.probe is not None and keys is not None:
        _verify_probe(config, result, delivered_at, keys)
        if result.lost:
            _find_unacknowledged(config, result, outcome, keys)
    return result


def _find_unacknowledged(
    config: RunFacts, result: SimResult, outcome: Outcome, keys: Callable[[int], tuple[str, ...]]
) -> None:
    """Failed events the receiver stored anyway (its reply failed): "stored but unacknowledged", not lost."""
    assert config.probe is not None
    delivered_at, state = outcome.delivered_at, outcome.state
    settled = {Outcome.PENDING, Outcome.IN_FLIGHT} if outcome.stopped else set()
    arrived: set[str] = set()
    for uid in range(len(delivered_at)):
        if delivered_at[uid] >= 0:
            arrived.update(keys(uid))
    failed: dict[str, int] = {}  # key -> the reason its unit gave up
    for uid in range(len(delivered_at)):
        if delivered_at[uid] < 0 and state[uid] not in settled:
            for key in keys(uid):
                if key not in arrived:
                    failed.setdefault(key, state[uid])
    wanted = list(failed)
    if config.probe_sample and len(wanted) > config.probe_sample:
        wanted = random.Random(config.seed + 1).sample(wanted, config.probe_sample)
    stored = [key for key in wanted if config.probe.count(key) >= 1]
    result.unacknowledged, result.unacknowledged_checked, result.unacknowledged_of = (
        len(stored),
        len(wanted),
        len(failed),
    )
    if len(wanted) < len(failed):
        return  # a sample: reported as such, the exact lost count cannot be corrected
    result.lost -= len(stored)
    for key in stored:
        code = failed[key]
        why = Outcome.REASONS.get(Outcome.WINDOW if code == Outcome.DELIVERED else code)
        if why in result.lost_by_reason:
            result.lost_by_reason[why] -= 1
            if not result.lost_by_reason[why]:
                del result.lost_by_reason[why]


def _verify_probe(
    config: RunFacts, result: SimResult, delivered_at: array[float], keys: Callable[[int], tuple[str, ...]]
) -> None:
    """Every delivered event stored exactly once (all of them, or a seeded sample of large runs)."""
    assert config.probe is not None
    seen: set[str] = set()
    wanted: list[str] = []
    for uid in range(len(delivered_at)):
        if delivered_at[uid] < 0:
            continue
        for key in keys(uid):
            if key not in seen:
                seen.add(key)
                wanted.append(key)
    result.probe_of = len(wanted)
    if config.probe_sample and len(wanted) > config.probe_sample:
        wanted = random.Random(config.seed).sample(wanted, config.probe_sample)
    report = config.probe_progress
    for done, key in enumerate(wanted, 1):
        count = config.probe.count(key)
        if count != 1:
            result.probe_mismatches.append((key, count))
        if report is not None:
            report(done, len(wanted))
    result.probe_checked = len(wanted)
