"""What the provider sends, as flat arrays: deliveries (units), the events they carry, duplicates."""

from __future__ import annotations

import random
from array import array
from collections.abc import Sequence
from dataclasses import dataclass

from harness.catalog import Provider
from harness.simulate.batching import BatchPlan, batch_events

__all__ = ["Unit", "Workload"]


@dataclass
class Unit:
    """One delivery the provider makes (a batch of events for SendGrid): its arrival and its events."""

    arrival: float
    events: Sequence[tuple[str, float]]  # (event type, the event's own time)
    duplicate_of: int | None = None


@dataclass
class Workload:
    """Deliveries sorted by first attempt, and their events; no per-event Python objects, so millions fit."""

    arrivals: array[float]
    event_times: array[float]
    starts: array[int] | None = None  # unit u carries events starts[u] .. starts[u] + counts[u]; None: event u
    counts: array[int] | None = None
    newest: array[float] | None = None  # the latest event time per unit (its window closes last)
    event_types: array[int] | None = None  # index into ``names``; None: the generator picks
    names: tuple[str, ...] = ()
    duplicate_of: array[int] | None = None  # the original unit of a resend, -1 for originals
    lead: float = 0.0  # the longest wait between an event and its delivery's first attempt (batching)

    @property
    def units(self) -> int:
        """How many deliveries (resends included)."""
        return len(self.arrivals)

    @property
    def events(self) -> int:
        """How many distinct events."""
        return len(self.event_times)

    def unit_events(self, u: int) -> range:
        """The indices of the events unit ``u`` carries."""
        if self.starts is None or self.counts is None:
            return range(u, u + 1)
        return range(self.starts[u], self.starts[u] + self.counts[u])

    def unit_size(self, u: int) -> int:
        """How many events unit ``u`` carries."""
        return 1 if self.counts is None else self.counts[u]

    def types_of(self, u: int) -> list[str | None]:
        """The event types unit ``u`` carries (None: any)."""
        if self.event_types is None:
            return [None] * self.unit_size(u)
        return [self.names[self.event_types[e]] for e in self.unit_events(u)]

    def original(self, u: int) -> int:
        """The unit whose payload ``u`` carries (itself, or the original of a resend)."""
        if self.duplicate_of is None:
            return u
        first = self.duplicate_of[u]
        return u if first < 0 else first

    @classmethod
    def uniform(cls, n: int, spread: float, rng: random.Random) -> Workload:
        """``n`` single-event deliveries at uniform random times over ``spread`` seconds."""
        rand = rng.random
        times = array("d", sorted([rand() * spread for _ in range(n)]))
        return cls(arrivals=times, event_times=times)

    @classmethod
    def from_events(
        cls,
        times: Sequence[float],
        provider: Provider,
        *,
        types: Sequence[int] | None = None,
        names: Sequence[str] = (),
        plan: BatchPlan | None = None,
        seed: int = 0,
    ) -> Workload:
        """Events (sorted by time) as the provider delivers them: one each, or batched (SendGrid)."""
        event_times = times if isinstance(times, array) else array("d", times)
        event_types = None if types is None else array("H", types)
        if provider.body.shape != "batch":
            return cls(arrivals=event_times, event_times=event_times, event_types=event_types, names=tuple(names))
        plan = plan or BatchPlan.for_provider(provider, seed=seed)
        flushes, starts = batch_events(event_times, plan.interval, plan.max_events)
        ends = [*starts[1:], len(event_times)]
        counts = array("l", [end - start for start, end in zip(starts, ends, strict=True)])
        newest = array("d", [event_times[end - 1] for end in ends])
        lead = max((flushes[b] - event_times[starts[b]] for b in range(len(starts))), default=0.0)
        return cls(
            lead=lead,
            arrivals=flushes,
            event_times=event_times,
            starts=starts,
            counts=counts,
            newest=newest,
            event_types=event_types,
            names=tuple(names),
        )

    @classmethod
    def from_units(cls, units: Sequence[Unit]) -> Workload:
        """From explicit units (any order; ``duplicate_of`` indexes ``units``)."""
        order = sorted(range(len(units)), key=lambda i: units[i].arrival)
        position = {old: new for new, old in enumerate(order)}
        names: dict[str, int] = {}
        event_times: array[float] = array("d")
        event_types: array[int] = array("H")
        starts: array[int] = array("q", [0]) * len(units)
        counts: array[int] = array("l", [0]) * len(units)
        newest: array[float] = array("d", [0.0]) * len(units)
        duplicate_of: array[int] = array("q", [-1]) * len(units)
        for new, old in enumerate(order):
            unit = units[old]
            if unit.duplicate_of is not None:
                continue
            starts[new] = len(event_times)
            counts[new] = len(unit.events)
            for name, when in unit.events:
                event_times.append(when)
                event_types.append(names.setdefault(name, len(names)))
            newest[new] = max((when for _, when in unit.events), default=unit.arrival)
        for new, old in enumerate(order):
            first = units[old].duplicate_of
            if first is not None:
                target = position[first]
                duplicate_of[new] = target
                starts[new], counts[new], newest[new] = starts[target], counts[target], newest[target]
        lead = max(
            (u.arrival - min(when for _, when in u.events) for u in units if u.events and u.duplicate_of is None),
            default=0.0,
        )
        return cls(
            lead=max(0.0, lead),
            arrivals=array("d", [units[old].arrival for old in order]),
            event_times=event_times,
            starts=starts,
            counts=counts,
            newest=newest,
            event_types=event_types,
            names=tuple(names),
            duplicate_of=duplicate_of if any(d >= 0 for d in duplicate_of) else None,
        )

    def with_duplicates(self, rng: random.Random, fraction: float, delay: float) -> Workload:
        """Resend a ``fraction`` of the deliveries up to ``delay`` seconds later, with the same events and keys."""
        if fraction <= 0:
            return self
        rand = rng.random
        extra = [(self.arrivals[u] + rand() * delay, u) for u in range(self.units) if rand() < fraction]
        if not extra:
            return self
        merged = sorted([(self.arrivals[u], u, -1) for u in range(self.units)] + [(t, -1, u) for t, u in extra])
        remap = {old: new for new, (_, old, _) in enumerate(merged) if old >= 0}
        starts = self.starts if self.starts is not None else array("q", range(self.units))
        counts = self.counts if self.counts is not None else array("l", [1]) * self.units
        newest = self.newest if self.newest is not None else self.arrivals
        origin = [old if old >= 0 else dup for _, old, dup in merged]
        return Workload(
            arrivals=array("d", [t for t, _, _ in merged]),
            event_times=self.event_times,
            starts=array("q", [starts[o] for o in origin]),
            counts=array("l", [counts[o] for o in origin]),
            newest=array("d", [newest[o] for o in origin]),
            event_types=self.event_types,
            names=self.names,
            duplicate_of=array("q", [-1 if old >= 0 else remap[dup] for _, old, dup in merged]),
            lead=self.lead,
        )

    def deadline(self, u: int, window: float) -> float:
        """The last moment unit ``u`` may be attempted: its newest event's time plus the window."""
        return (self.arrivals[u] if self.newest is None else self.newest[u]) + window
