"""The discrete-event loop: attempts on a virtual clock, real HTTP (or none, with --dry-run) for each attempt."""

from __future__ import annotations

import heapq
import random
import time
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.catalog import Provider
from harness.core.models import Delivery, Reply
from harness.credentials import Credentials
from harness.errors import UsageError
from harness.probes import Probe
from harness.simulate.outages import Outages
from harness.simulate.policy import RetryPolicy
from harness.simulate.results import SimResult, summarise

__all__ = ["SimConfig", "Unit", "run_simulation"]

Sender = Callable[[list[tuple[Delivery, str]], float], list[Reply]]


@dataclass
class Unit:
    """One delivery the provider makes (a batch of events for SendGrid): its arrival and its events."""

    arrival: float
    events: Sequence[tuple[str, float]]  # (event type, the event's own time)
    duplicate_of: int | None = None


@dataclass
class SimConfig:
    """What to simulate and against what."""

    provider: Provider
    policy: RetryPolicy
    units: Sequence[Unit] | None = None
    event_count: int = 0
    spread: float = 86_400.0
    outages: Outages = field(default_factory=Outages)
    url: str | None = None
    credentials: Credentials = field(default_factory=Credentials)
    dry_run: bool = True
    seed: int = 0
    probe: Probe | None = None
    concurrency: int = 64
    max_requests: int = 100_000
    max_wall: float = 600.0
    time_scale: float | None = None
    timeline_samples: int = 2_000
    progress: Callable[[int, int], None] | None = None
    clock: Callable[[], float] = time.time  # signatures carry real time: receivers check it against theirs


def _uniform_units(config: SimConfig, rng: random.Random) -> list[float]:
    """Arrival times of ``event_count`` single-event deliveries spread over ``spread`` (sorted)."""
    rand, spread = rng.random, config.spread
    return sorted(rand() * spread for _ in range(config.event_count))


def run_simulation(config: SimConfig, send: Sender | None = None) -> SimResult:
    """Replay the provider's retry policy over every delivery and tally what arrives and what is lost."""
    rng = random.Random(config.seed)
    started = time.perf_counter()
    policy = config.policy
    if config.units is not None:
        units = config.units
        arrivals = array("d", (u.arrival for u in units))
        sizes = array("l", (len(u.events) for u in units))
    else:
        arrivals = array("d", _uniform_units(config, rng))
        units = ()
        sizes = array("l", [1]) * len(arrivals)
    n = len(arrivals)
    if n == 0:
        raise UsageError("Nothing to simulate: give --events N or a scenario with events.")
    delivered_at = array("d", [-1.0]) * n
    attempts_of = array("l", [0]) * n
    base = policy.schedule()
    gaps = [base[i + 1] - base[i] for i in range(len(base) - 1)]
    jitter = policy.jitter
    window = policy.window
    down = config.outages.down if config.outages.starts else None
    heap: list[tuple[float, int, int]] = [(arrivals[i], i, 1) for i in range(n)]
    heapq.heapify(heap)
    pop, push, rand = heapq.heappop, heapq.heappush, rng.random
    attempts = requests = 0
    disabled_at: float | None = None
    timeline: list[tuple[float, int, int, str]] = []
    sample_every = max(1, n // max(1, config.timeline_samples))
    last_progress = 0.0

    def fail(t: float, uid: int, k: int) -> None:
        if k > len(gaps):
            return
        delay = gaps[k - 1]
        if jitter:
            delay *= 1 - jitter + 2 * jitter * rand()
        if window is not None and t + delay - arrivals[uid] > window:
            return
        push(heap, (t + delay, uid, k + 1))

    factory: DeliveryFactory | None = None
    if send is None:  # dry run: the receiver is up outside the outage windows
        while heap:
            t, uid, k = pop(heap)
            attempts += 1
            attempts_of[uid] = k
            if down is not None and down(t):
                if uid % sample_every == 0:
                    timeline.append((t, uid, k, "outage"))
                fail(t, uid, k)
            else:
                delivered_at[uid] = t
                if uid % sample_every == 0:
                    timeline.append((t, uid, k, "delivered"))
    else:
        factory = DeliveryFactory(config, units)
        deadline = time.monotonic() + config.max_wall
        real_start = time.monotonic()
        while heap:
            if requests >= config.max_requests or time.monotonic() > deadline:
                break
            wave: list[tuple[float, int, int]] = []
            to_send: list[tuple[Delivery, str]] = []
            while heap and len(to_send) < config.concurrency:
                t, uid, k = pop(heap)
                attempts += 1
                attempts_of[uid] = k
                if disabled_at is not None:
                    continue
                if down is not None and down(t):
                    if uid % sample_every == 0:
                        timeline.append((t, uid, k, "outage"))
                    fail(t, uid, k)
                    continue
                wave.append((t, uid, k))
                to_send.append((factory.attempt(uid, k), config.url or ""))
            if not wave:
                continue
            if config.time_scale:
                _wait_until(real_start + wave[-1][0] / config.time_scale)
            replies = send(to_send, config.provider.timeout)
            requests += len(replies)
            for (t, uid, k), reply in zip(wave, replies, strict=True):
                if reply.ok:
                    delivered_at[uid] = t
                    if uid % sample_every == 0:
                        timeline.append((t, uid, k, "delivered"))
                    continue
                if uid % sample_every == 0:
                    timeline.append((t, uid, k, f"HTTP {reply.status}" if reply.status else "no answer"))
                if "410-disables" in policy.honours and reply.status == 410:
                    disabled_at = t
                    continue
                if "x-slack-no-retry" in policy.honours and reply.header("X-Slack-No-Retry") == "1":
                    continue
                if not policy.retryable(reply.status, reply.error):
                    continue
                retry_after = reply.header("Retry-After") if "retry-after" in policy.honours else None
                if retry_after and retry_after.isdigit() and k <= len(gaps):
                    delay = max(gaps[k - 1], float(retry_after))
                    if window is None or t + delay - arrivals[uid] <= window:
                        push(heap, (t + delay, uid, k + 1))
                    continue
                fail(t, uid, k)
            if config.progress and time.monotonic() - last_progress > 0.2:
                last_progress = time.monotonic()
                config.progress(requests, config.max_requests)
    truncated = bool(heap)
    return summarise(
        config=config,
        arrivals=arrivals,
        sizes=sizes,
        delivered_at=delivered_at,
        attempts_of=attempts_of,
        attempts=attempts,
        requests=requests,
        timeline=timeline,
        wall=time.perf_counter() - started,
        truncated=truncated,
        disabled_at=disabled_at,
        units=units,
        keys=factory.keys if factory is not None else None,
    )


class DeliveryFactory:
    """Builds each unit's delivery once (duplicates reuse the original's) and re-signs it per attempt."""

    def __init__(self, config: SimConfig, units: Sequence[Unit]) -> None:
        from harness.volume import VolumeGenerator

        self.config = config
        self.units = units
        self.generator = VolumeGenerator(config.provider, seed=config.seed)
        self.built: dict[int, Delivery] = {}

    def base(self, uid: int) -> Delivery:
        """The unsigned delivery of a unit."""
        from harness.deliveries import build_delivery

        found = self.built.get(uid)
        if found is not None:
            return found
        unit = self.units[uid] if self.units else None
        if unit is not None and unit.duplicate_of is not None:
            delivery = self.base(unit.duplicate_of)
        else:
            types: list[str | None] = [name for name, _ in unit.events] if unit else [None]
            payloads: list[Any] = [self.generator.payload(name) for name in types]
            body = payloads if self.config.provider.body.shape == "batch" else payloads[0]
            names = [name for name in types if name] or None
            delivery = build_delivery(self.config.provider, body, event_types=names, rng=self.generator.rng)
        self.built[uid] = delivery
        return delivery

    def attempt(self, uid: int, attempt: int) -> Delivery:
        """Attempt ``attempt``: the same idempotency key, retry headers and a fresh signature."""
        from harness.signing import sign_delivery

        delivery = self.base(uid)
        headers: dict[str, str] = {}
        if attempt > 1:
            for name, kind in self.config.policy.retry_headers.items():
                headers[name] = str(attempt - 1) if kind == "retry_number" else "http_error"
        if headers:
            delivery = delivery.with_headers(headers)
        return sign_delivery(self.config.provider, delivery, self.config.credentials, now=self.config.clock())

    def keys(self, uid: int) -> tuple[str, ...]:
        """The idempotency keys a unit carries."""
        return self.base(uid).idempotency_keys


def _wait_until(moment: float) -> None:
    """Soak mode (--time-scale): real time follows virtual time, scaled."""
    pause = moment - time.monotonic()
    if pause > 0:
        time.sleep(min(pause, 60.0))
