"""What a simulation found: delivered, lost, attempts, time to delivery, and the outage the policy survives."""

from __future__ import annotations

import random
from array import array
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from harness.core.durations import format_duration

if TYPE_CHECKING:
    from harness.simulate.engine import SimConfig, Unit

__all__ = ["SimResult", "summarise"]

PROBE_SAMPLE = 2_000


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
    probe_checked: int = 0
    probe_mismatches: list[tuple[str, int]] = field(default_factory=list)
    timeline: list[tuple[float, int, int, str]] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """0: nothing lost and (with a probe) every event stored once; 1 otherwise."""
        return 1 if self.lost or self.pending or self.probe_mismatches else 0

    def to_json(self) -> dict[str, Any]:
        """The JSON report."""
        return {
            "provider": self.provider,
            "policy": self.policy,
            "dry_run": self.dry_run,
            "events": self.events,
            "deliveries": self.deliveries,
            "delivered": self.delivered,
            "lost": self.lost,
            "pending_when_stopped": self.pending,
            "attempts": self.attempts,
            "requests_sent": self.requests,
            "attempts_per_event": {str(k): v for k, v in sorted(self.histogram.items())},
            "time_to_delivery_seconds": self.time_to_delivery,
            "outages": [{"start": s, "end": e} for s, e in self.outages],
            "max_survivable_outage_seconds": self.survivable_outage,
            "endpoint_disabled_at": self.disabled_at,
            "probe": {"checked": self.probe_checked, "mismatches": [list(m) for m in self.probe_mismatches]},
            "wall_seconds": round(self.wall, 3),
            "exit_code": self.exit_code,
        }

    def render(self) -> str:
        """The terminal summary."""

        def pct(n: int) -> str:
            return f"{100 * n / self.events:.2f}%" if self.events else "-"

        lines = [
            f"provider {self.provider}: {self.policy}",
            f"events {self.events:,} in {self.deliveries:,} deliveries; attempts {self.attempts:,}"
            + ("" if self.dry_run else f" ({self.requests:,} real requests)"),
            f"delivered {self.delivered:,} ({pct(self.delivered)}), lost {self.lost:,} ({pct(self.lost)})"
            + (f", still pending when stopped {self.pending:,}" if self.pending else ""),
        ]
        if self.outages:
            shown = ", ".join(f"{format_duration(s)}..{format_duration(e)}" for s, e in self.outages)
            lines.append(f"outages: {shown}")
        if self.disabled_at is not None:
            lines.append(f"the endpoint was disabled (410) at t={format_duration(self.disabled_at)}")
        hist = ", ".join(f"{k}: {v:,}" for k, v in sorted(self.histogram.items())[:12])
        lines.append(f"attempts per event: {hist}")
        if self.time_to_delivery:
            ttd = ", ".join(f"{k} {format_duration(v)}" for k, v in self.time_to_delivery.items())
            lines.append(f"time to delivery: {ttd}")
        if self.probe_checked:
            verdict = "all stored exactly once" if not self.probe_mismatches else f"{len(self.probe_mismatches)} wrong"
            lines.append(f"probe: {self.probe_checked:,} events checked, {verdict}")
            lines.extend(f"  {key}: stored {count} times" for key, count in self.probe_mismatches[:10])
        lines.append(
            f"longest outage this policy survives with zero loss, wherever it starts: "
            f"{format_duration(self.survivable_outage)}"
        )
        lines.append(f"simulated in {self.wall:.2f}s")
        return "\n".join(lines)


def _percentiles(values: array[float], zeros: int) -> dict[str, float]:
    total = len(values) + zeros
    if not total:
        return {}
    ordered = sorted(values)

    def at(q: float) -> float:
        index = min(total - 1, int(q * total))
        return 0.0 if index < zeros else ordered[index - zeros]

    return {"p50": at(0.5), "p90": at(0.9), "p99": at(0.99), "max": ordered[-1] if ordered else 0.0}


def summarise(
    *,
    config: SimConfig,
    arrivals: array[float],
    sizes: array[int],
    delivered_at: array[float],
    attempts_of: array[int],
    attempts: int,
    requests: int,
    timeline: list[tuple[float, int, int, str]],
    wall: float,
    truncated: bool,
    disabled_at: float | None,
    units: Sequence[Unit],
    keys: Callable[[int], tuple[str, ...]] | None,
) -> SimResult:
    """Tally per event (a SendGrid batch counts each of its events)."""
    events = delivered = 0
    histogram: Counter[int] = Counter()
    waits = array("d")
    zeros = 0
    pending_units = set()
    if truncated:
        pending_units = {i for i in range(len(arrivals)) if delivered_at[i] < 0 and attempts_of[i] == 0}
    for i in range(len(arrivals)):
        size = sizes[i]
        events += size
        histogram[attempts_of[i]] += size
        done = delivered_at[i]
        if done >= 0:
            delivered += size
            if units:
                for _, when in units[i].events:
                    wait = done - when
                    if wait > 0:
                        waits.append(wait)
                    else:
                        zeros += 1
            else:
                wait = done - arrivals[i]
                if wait > 0:
                    waits.append(wait)
                else:
                    zeros += 1
    pending = sum(sizes[i] for i in pending_units)
    result = SimResult(
        provider=config.provider.id,
        policy=config.policy.describe(),
        events=events,
        deliveries=len(arrivals),
        delivered=delivered,
        lost=events - delivered - pending,
        pending=pending,
        attempts=attempts,
        requests=requests,
        histogram=dict(histogram),
        time_to_delivery=_percentiles(waits, zeros),
        survivable_outage=config.policy.max_survivable_outage(),
        outages=list(config.outages.windows),
        wall=wall,
        dry_run=config.dry_run,
        disabled_at=disabled_at,
        timeline=timeline,
    )
    if config.probe is not None and keys is not None:
        _verify_probe(config, result, delivered_at, keys)
    return result


def _verify_probe(
    config: SimConfig, result: SimResult, delivered_at: array[float], keys: Callable[[int], tuple[str, ...]]
) -> None:
    """Every delivered event stored exactly once (all of them, or a seeded sample of large runs)."""
    assert config.probe is not None
    units = [i for i in range(len(delivered_at)) if delivered_at[i] >= 0]
    seen: set[str] = set()
    wanted: list[str] = []
    for uid in units:
        for key in keys(uid):
            if key not in seen:
                seen.add(key)
                wanted.append(key)
    if len(wanted) > PROBE_SAMPLE:
        wanted = random.Random(config.seed).sample(wanted, PROBE_SAMPLE)
    for key in wanted:
        count = config.probe.count(key)
        if count != 1:
            result.probe_mismatches.append((key, count))
    result.probe_checked = len(wanted)
