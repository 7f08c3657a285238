"""The discrete-event loop: attempts on a virtual clock, real HTTP (or none, with --dry-run) for each attempt."""

from __future__ import annotations

import asyncio
import bisect
import concurrent.futures
import contextlib
import functools
import gc
import heapq
import itertools
import math
import queue
import random
import time
from array import array
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from harness.catalog import Provider
from harness.core.collector import fewer_young_collections
from harness.core.models import Delivery, Reply
from harness.credentials import Credentials
from harness.errors import UsageError
from harness.probes.counts import Probe
from harness.probes.state import StateProbe
from harness.simulate.batching import BatchPlan
from harness.simulate.clock import Clock, ScaledClock, VirtualClock
from harness.simulate.lazy import tally
from harness.simulate.objects import ObjectPlan, check_objects
from harness.simulate.outages import Outages
from harness.simulate.policy import RetryPolicy, retry_after_seconds
from harness.simulate.results import PROBE_SAMPLE, Outcome, RunFacts, SimResult, summarise
from harness.simulate.workload import Unit, Workload

if TYPE_CHECKING:
    from harness.transport.aio import AioTransport

__all__ = ["MAX_EVENTS", "MAX_HELD", "Sender", "SimConfig", "Submitter", "Unit", "attempt_schedule", "run_simulation"]

Sender = Callable[[list[tuple[Delivery, str]], float], list[Reply]]


class Submitter(Protocol):
    """A transport that starts one request at a time and answers through a future (``AioTransport``)."""

    def submit(self, delivery: Delivery, url: str, *, timeout: float) -> concurrent.futures.Future[Reply]:
        """Start sending ``delivery``."""
        ...


_CHUNK = 8192
_PREFETCH = 64  # first attempts whose deliveries are built in one go (virtual time)
_BODIES = 64  # distinct generated bodies per event type for providers that key deliveries by a header
_MAX_ATTEMPTS = 10_000
MAX_EVENTS = 1_000_000_000  # generated events in one run: a dry run's memory stays flat, its time grows (~1 us each)
MAX_HELD = 1_000_000  # generated events a run that keeps per-event arrays may take (sending, --time-scale, disabling)


@dataclass
class SimConfig:
    """What to simulate and against what."""

    provider: Provider
    policy: RetryPolicy | None = None  # None: the provider's profile
    units: Sequence[Unit] | None = None
    event_count: int = 0
    spread: float = 86_400.0
    outages: Outages = field(default_factory=Outages)
    url: str | None = None
    credentials: Credentials = field(default_factory=Credentials)
    dry_run: bool = True
    seed: int = 0
    probe: Probe | None = None
    probe_sample: int = PROBE_SAMPLE  # events the probe looks up at most (a seeded sample); 0: every one
    concurrency: int = 64
    max_requests: int = 100_000
    max_wall: float = 600.0
    time_scale: float | None = None
    timeline_samples: int = 2_000
    progress: Callable[[float, float], None] | None = None  # (virtual seconds done, virtual horizon)
    probe_progress: Callable[[int, int], None] | None = None  # (events the probe looked up, events to look up)
    clock: Callable[[], float] = time.time  # signatures carry real time: receivers check it against theirs
    sleep: Callable[[float], None] = time.sleep  # only --time-scale waits
    monotonic: Callable[[], float] = time.monotonic  # the real-time budget and --time-scale read this
    workload: Workload | None = None
    arrivals: Callable[[], Iterator[float]] | None = None  # sorted event times drawn lazily (a scenario's dry run)
    plan_seed: int | None = None  # the seed of the batch plan's size estimate when not ``seed`` (a scenario's own)
    batch: bool = True  # batch providers (SendGrid) batch the ``event_count`` events per flush interval
    pass_through_rate: float = 0.0  # share of events with one unusual user-typed value (NUL, emoji, ...); 0: none
    event_types: tuple[str, ...] = ()  # the event types the endpoint subscribes to (--event); empty: every type
    objects: ObjectPlan | None = None  # lifecycle objects: each unit is one object's step (harness.simulate.objects)
    state_probe: StateProbe | None = None  # with ``objects``: read each object's final state after the run
    state_fields: Sequence[str] = ()

    @property
    def retry_policy(self) -> RetryPolicy:
        """The policy in force."""
        return self.policy if self.policy is not None else RetryPolicy.from_profile(self.provider)


def build_workload(config: SimConfig) -> Workload:
    """The deliveries to simulate: the config's workload or units, or ``event_count`` events spread uniformly."""
    if config.workload is not None:
        return config.workload
    if config.units is not None:
        return Workload.from_units(config.units)
    rng = random.Random(config.seed)
    if config.batch and config.provider.body.shape == "batch":
        rand, spread = rng.random, config.spread
        times = array("d", sorted([rand() * spread for _ in range(config.event_count)]))
        return Workload.from_events(times, config.provider, seed=config.seed)
    return Workload.uniform(config.event_count, config.spread, rng)


def run_simulation(config: SimConfig, send: Sender | None = None, *, transport: Submitter | None = None) -> SimResult:
    """Replay the provider's retry policy over every delivery and tally what arrives and what is lost.

    Without ``send`` or ``transport`` nothing is sent (dry run). ``send`` takes waves of up to ``concurrency``
    attempts; ``transport`` keeps ``concurrency`` requests in flight without waiting for a whole wave.
    """
    started = time.perf_counter()
    policy = config.retry_policy
    generated = config.workload is None and config.units is None and config.objects is None
    if generated and config.arrivals is None and config.event_count < 1:
        raise UsageError("Nothing to simulate: give --events N or a scenario with events.")
    if generated and send is None and transport is None and not config.time_scale:
        if policy.on_exhausted != "disable-endpoint":  # deliveries independent of each other: settled as they come
            return _run_lazy(config, policy, started)
    if generated and config.arrivals is not None:
        raise UsageError("Streamed arrivals (a scenario's) run only as a plain dry run; give the scenario's workload.")
    if generated and config.event_count > MAX_HELD:
        raise UsageError(
            f"{config.event_count:,} events: a run that sends requests, uses --time-scale or a policy that disables "
            f"the endpoint keeps every event in memory, so at most {MAX_HELD:,} (a plain dry run takes more)."
        )
    workload = build_workload(config)
    if workload.units == 0:
        raise UsageError("Nothing to simulate: give --events N or a scenario with events.")
    run = _Run(config, policy, workload)
    factory = None
    interrupted = False
    try:
        if transport is not None:
            factory = DeliveryFactory(config, policy, workload)
            run.streamed(transport, factory)
        elif send is not None or config.time_scale or policy.on_exhausted == "disable-endpoint":
            factory = DeliveryFactory(config, policy, workload) if send is not None else None
            run.ordered(send, factory)
        else:
            run.dry_fast()
    except KeyboardInterrupt:
        interrupted = run.stopped = True  # Ctrl-C: what was settled so far is the result; the rest is pending
    facts = RunFacts(
        config.provider.id,
        config.outages,
        config.dry_run,
        config.seed,
        None if interrupted else config.probe,  # no probe round after Ctrl-C: the user wants out now
        config.probe_sample,
        config.probe_progress,
    )
    result = summarise(
        config=facts,
        policy=policy,
        workload=workload,
        outcome=run.outcome(),
        wall=time.perf_counter() - started,
        keys=factory.keys if factory is not None else None,
    )
    result.interrupted = interrupted
    if config.objects is not None and config.state_probe is not None and not config.dry_run and not interrupted:
        delivered = run.outcome().state
        found = check_objects(
            config.objects,
            lambda u: delivered[u] == Outcome.DELIVERED,
            config.state_probe,
            config.state_fields,
            seed=config.seed,
        )
        result.objects, result.objects_checked = found.objects, found.checked
        result.objects_wrong, result.objects_incomplete = found.wrong, found.incomplete
    return result


def _run_lazy(config: SimConfig, policy: RetryPolicy, started: float) -> SimResult:
    """A dry run of generated events whose deliveries do not affect each other, in memory that does not grow with
    the number of events (``harness.simulate.lazy``); the same figures as the eager loop for the same seed."""
    provider = config.provider
    batched = config.batch and provider.body.shape == "batch"
    plan_seed = config.seed if config.plan_seed is None else config.plan_seed
    got = tally(
        events=config.event_count,
        times=config.arrivals() if config.arrivals is not None else None,
        spread=config.spread,
        seed=config.seed,
        policy=policy,
        outages=config.outages,
        plan=BatchPlan.for_provider(provider, seed=plan_seed) if batched else None,
        delays=_delays(policy),
        timeline_samples=config.timeline_samples,
        progress=config.progress,
    )
    if not got.units and not got.interrupted:
        raise UsageError("Nothing to simulate: give --events N or a scenario with events.")
    events = config.event_count if config.arrivals is None else got.events  # a stream's total is what it held
    pending = events - got.events if got.interrupted else 0
    result = SimResult(
        provider=provider.id,
        policy=policy.describe(),
        events=events,
        deliveries=got.units,
        delivered=got.delivered,
        lost=events - got.delivered - pending,
        pending=pending,
        attempts=got.attempts,
        requests=0,
        histogram=dict(sorted(got.histogram.items())),
        time_to_delivery=got.waits.percentiles(),
        survivable_outage=policy.max_survivable_outage(lead=got.lead),
        outages=list(config.outages.windows),
        wall=time.perf_counter() - started,
        dry_run=config.dry_run,
        lost_by_reason={Outcome.REASONS[c]: n for c, n in sorted(got.lost_by.items()) if n},
        timeline=sorted(got.timeline),
    )
    result.interrupted = got.interrupted
    return result


def attempt_schedule(config: SimConfig) -> tuple[Workload, array[float], array[int], array[int]]:
    """Every attempt the provider makes when the receiver is up outside the outages: (workload, times, units, k).

    Attempts come in virtual-time order; ``k`` is the attempt number (1 for the first). Nothing is sent.
    """
    workload = build_workload(config)
    if workload.units == 0:
        raise UsageError("Nothing to simulate: no events.")
    times: array[float] = array("d")
    units: array[int] = array("q")
    attempts: array[int] = array("l")

    def record(t: float, u: int, k: int) -> None:
        times.append(t)
        units.append(u)
        attempts.append(k)

    run = _Run(config, config.retry_policy, workload)
    run.record = record
    run.ordered(None, None)
    return workload, times, units, attempts


class _Run:
    """The state of one run: per-unit arrays, the retry heap, counters."""

    def __init__(self, config: SimConfig, policy: RetryPolicy, workload: Workload) -> None:
        self.config = config
        self.policy = policy
        self.wl = workload
        n = workload.units
        self.delivered_at = array("d", [-1.0]) * n
        self.attempts_of = array("l", [0]) * n
        self.state = array("b", [Outcome.PENDING]) * n
        self.delays = _delays(policy)
        self.timeline: list[tuple[float, int, int, str]] = []
        step = 1
        while n // step > max(1, config.timeline_samples):
            step *= 2
        self.sample_mask = step - 1
        self.requests = 0
        self.failures: Counter[str] = Counter()  # real requests that failed, by status or error class
        self.disabled_at: float | None = None
        self.stopped = False
        self.rng = random.Random(config.seed ^ 0x5EED)
        self.record: Callable[[float, int, int], None] | None = None  # sees every attempt (attempt_schedule)
        self.horizon = workload.arrivals[-1] + sum(d for d in self.delays[:64])
        if policy.window is not None:
            self.horizon = min(self.horizon, workload.arrivals[-1] + policy.window)

    def outcome(self) -> Outcome:
        """What the loop left behind, for the summary."""
        return Outcome(
            delivered_at=self.delivered_at,
            attempts_of=self.attempts_of,
            state=self.state,
            requests=self.requests,
            timeline=sorted(self.timeline),
            disabled_at=self.disabled_at,
            stopped=self.stopped,
            failures=dict(self.failures),
        )

    def _deadlines(self) -> tuple[array[float], float | None]:
        return (self.wl.newest if self.wl.newest is not None else self.wl.arrivals), self.policy.window

    def dry_fast(self) -> None:
        """Dry run, deliveries independent of each other: first attempts in bulk, then only the retries on a heap."""
        wl, state, attempts_of, delivered_at = self.wl, self.state, self.attempts_of, self.delivered_at
        arrivals = wl.arrivals
        n = wl.units
        attempts_of[:] = array("l", [1]) * n
        delivered_at[:] = arrivals
        state[:] = array("b", [Outcome.DELIVERED]) * n
        delays, ndelays = self.delays, len(self.delays)
        newest, window = self._deadlines()
        jitter = self.policy.jitter
        low, span = 1.0 - jitter, 2.0 * jitter
        rand = self.rng.random
        mask = self.sample_mask
        timeline = self.timeline
        starts, ends = self.config.outages.starts, self.config.outages.ends
        heap: list[tuple[float, int, int]] = []
        exhausted, expired = Outcome.EXHAUSTED, Outcome.WINDOW

        def retry_or_give_up(t: float, u: int, k: int, add: Callable[[tuple[float, int, int]], None]) -> None:
            if k > ndelays:
                state[u] = exhausted
                return
            nt = t + (delays[k - 1] * (low + span * rand()) if jitter else delays[k - 1])
            if window is not None and nt - newest[u] > window:
                state[u] = expired
                return
            add((nt, u, k + 1))

        for s, e in zip(starts, ends, strict=True):
            lo, hi = bisect.bisect_left(arrivals, s), bisect.bisect_left(arrivals, e)
            for u in range(lo, hi):
                delivered_at[u] = -1.0
                retry_or_give_up(arrivals[u], u, 1, heap.append)  # heapified once below
        heapq.heapify(heap)
        pop, push = heapq.heappop, functools.partial(heapq.heappush, heap)
        single = len(starts) == 1
        s0, e0 = (starts[0], ends[0]) if single else (0.0, 0.0)
        bisect_right = bisect.bisect_right
        progress = self.config.progress
        t = 0.0
        while heap:
            for _ in itertools.repeat(None, _CHUNK):
                if not heap:
                    break
                t, u, k = pop(heap)
                attempts_of[u] = k
                if single:
                    down = s0 <= t < e0
                else:
                    i = bisect_right(starts, t) - 1
                    down = i >= 0 and t < ends[i]
                if not u & mask:
                    timeline.append((t, u, k, "outage" if down else "delivered"))
                if not down:
                    delivered_at[u] = t
                    state[u] = Outcome.DELIVERED
                    continue
                retry_or_give_up(t, u, k, push)
            if progress is not None:
                progress(t, self.horizon)
        for u in range(0, n, mask + 1):
            timeline.append(
                (arrivals[u], u, 1, "delivered" if attempts_of[u] == 1 and delivered_at[u] >= 0 else "outage")
            )

    def ordered(self, send: Sender | None, factory: DeliveryFactory | None) -> None:
        """Every attempt in virtual-time order (waves of concurrent requests in HTTP mode)."""
        config, wl = self.config, self.wl
        arrivals, n = wl.arrivals, wl.units
        clock = self._clock()
        heap: list[tuple[float, int, int]] = []
        reasons: dict[int, str] = {}
        wave_size = max(1, config.concurrency)
        deadline = config.monotonic() + config.max_wall
        i = 0
        last_progress = 0.0
        while i < n or heap:
            wave: list[tuple[float, int, int]] = []
            while len(wave) < wave_size and (i < n or heap):
                t, u, k, from_heap = _next_due(heap, arrivals, i, n)
                if self.disabled_at is not None and t > self.disabled_at:
                    break
                if wave and not clock.ready(t):
                    break
                if not clock.advance_to(t):
                    self.stopped = True
                    break
                if from_heap:
                    heapq.heappop(heap)
                else:
                    i += 1
                if self._start(t, u, k, heap, reasons):
                    continue
                if send is None:
                    self._deliver(t, u, k)
                    continue
                wave.append((t, u, k))
                if self.requests + len(wave) >= config.max_requests:
                    break
            if wave and send is not None and factory is not None:
                replies = send(
                    [(factory.attempt(u, k, reasons.get(u)), config.url or "") for _, u, k in wave],
                    config.provider.timeout,
                )
                self.requests += len(wave)
                for (t, u, k), reply in zip(wave, replies, strict=True):
                    self._answered(t, u, k, reply, heap, reasons)
                    if self.state[u] != Outcome.IN_FLIGHT:
                        reasons.pop(u, None)
                        factory.done(u)
            if config.progress is not None and time.monotonic() - last_progress > 0.2:
                last_progress = time.monotonic()
                config.progress(clock.now, self.horizon)
            if self.stopped or (self.disabled_at is not None and not wave):
                break
            if send is not None and (self.requests >= config.max_requests or config.monotonic() > deadline):
                self.stopped = bool(i < n or heap)
                break
        self._disable_rest(i, heap)

    def streamed(self, transport: Submitter, factory: DeliveryFactory) -> None:
        """Real HTTP with a sliding window: a new attempt starts as soon as any of ``concurrency`` in flight ends.

        On ``AioTransport`` the loop runs on the transport's own event loop (no thread hop per request); any other
        ``Submitter`` is driven from this thread through its futures.
        """
        from harness.transport.aio import AioTransport

        stream = _Stream(self, factory)
        if isinstance(transport, AioTransport):
            # what exists now (catalog, compiled generators, the run's arrays) lives for the whole run: frozen, the
            # collections the requests trigger do not walk it again and again; and the objects of the requests in
            # flight (freed by reference counting when each ends) are not walked and promoted every 700 allocations
            gc.freeze()
            try:
                with fewer_young_collections():
                    transport.run_on_loop(self._streamed_async(transport, stream))
            finally:
                gc.unfreeze()
        else:
            finished: queue.SimpleQueue[concurrent.futures.Future[Reply]] = queue.SimpleQueue()  # O(1) per answer

            def submit(delivery: Delivery, url: str, timeout: float) -> Any:
                future = transport.submit(delivery, url, timeout=timeout)
                future.add_done_callback(finished.put)
                return future

            while stream.fill(submit):
                wait = 0.05 if self.config.time_scale else None
                stream.settle([(future, future.result()) for future in _collect(finished, wait)])
        stream.finish()

    async def _streamed_async(self, transport: AioTransport, stream: _Stream) -> None:
        """``streamed`` on the transport's event loop: ``concurrency`` workers, each taking the next due attempt,
        sending it and acting on the answer itself (no task, future or semaphore wait per request)."""
        loop = asyncio.get_running_loop()
        waiting: list[asyncio.Future[None]] = []  # workers with nothing to start until an answer arrives
        scaled = bool(self.config.time_scale)
        inflight, url, timeout = stream.inflight, stream.url, stream.timeout

        def wake_all() -> None:
            for future in waiting:
                if not future.done():
                    future.set_result(None)
            waiting.clear()

        async def worker() -> None:
            handle = object()  # one request in flight per worker at a time: the worker is its handle
            while True:
                job = stream.take()
                if job is None:
                    if not inflight:
                        wake_all()  # nothing in flight and nothing to start: the run is over for everyone
                        return
                    idle = loop.create_future()
                    waiting.append(idle)
                    if scaled:  # the next attempt may come due in scaled time before any answer
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(idle, 0.05)
                    else:
                        await idle
                    continue
                t, u, k, delivery = job
                inflight[handle] = (t, u, k)
                reply = await transport.request(delivery, url, timeout=timeout)
                stream.settle([(handle, reply)])
                if waiting:
                    wake_all()  # the answer may have planned a retry that an idle worker can start

        await asyncio.gather(*(worker() for _ in range(stream.limit)))

    def _clock(self) -> Clock:
        """Virtual time, or scaled real time for a soak run (``--time-scale``)."""
        config = self.config
        if config.time_scale:
            return ScaledClock(
                config.time_scale, max_wall=config.max_wall, sleep=config.sleep, monotonic=config.monotonic
            )
        return VirtualClock()

    def _start(self, t: float, u: int, k: int, heap: list[tuple[float, int, int]], reasons: dict[int, str]) -> bool:
        """Begin attempt ``k`` of unit ``u``; True if the receiver is down then (attempt failed, retry planned)."""
        self.attempts_of[u] = k
        self.state[u] = Outcome.IN_FLIGHT
        if self.record is not None:
            self.record(t, u, k)
        down = self.config.outages
        if down.starts and down.down(t):
            self._sample(t, u, k, "outage")
            reasons[u] = "connection_failed"
            self._retry(t, u, k, heap)
            return True
        return False

    def _disable_rest(self, i: int, heap: list[tuple[float, int, int]]) -> None:
        """Once the provider has disabled the endpoint, every unit not yet settled is lost to it."""
        if self.disabled_at is None:
            return
        for u in itertools.chain(range(i, self.wl.units), (u for _, u, _ in heap)):
            if self.state[u] in (Outcome.PENDING, Outcome.IN_FLIGHT):
                self.state[u] = Outcome.DISABLED

    def _sample(self, t: float, u: int, k: int, outcome: str) -> None:
        if not u & self.sample_mask:
            self.timeline.append((t, u, k, outcome))

    def _deliver(self, t: float, u: int, k: int) -> None:
        self.delivered_at[u] = t
        self.state[u] = Outcome.DELIVERED
        self._sample(t, u, k, "delivered")

    def _retry(self, t: float, u: int, k: int, heap: list[tuple[float, int, int]], at_least: float = 0.0) -> None:
        """Schedule attempt ``k + 1``, or give up (and disable the endpoint where the provider does)."""
        if k > len(self.delays):
            self.state[u] = Outcome.EXHAUSTED
            if self.policy.on_exhausted == "disable-endpoint" and self.disabled_at is None:
                self.disabled_at = t
            return
        delay = self.policy.next_delay(k, self.rng) or 0.0
        nt = t + max(delay, at_least)
        newest, window = self._deadlines()
        if window is not None and nt - newest[u] > window:
            self.state[u] = Outcome.WINDOW
            return
        heapq.heappush(heap, (nt, u, k + 1))

    def _answered(
        self, t: float, u: int, k: int, reply: Reply, heap: list[tuple[float, int, int]], reasons: dict[int, str]
    ) -> None:
        """Act on the receiver's answer to attempt ``k`` of unit ``u`` as the provider would."""
        policy = self.policy
        stop = policy.stop_reason(reply)
        if stop == "delivered":
            self._deliver(t, u, k)
            return
        self.failures[_failure_class(reply)] += 1
        self._sample(t, u, k, f"HTTP {reply.status}" if reply.status else "no answer")
        if stop == "disabled":
            self.state[u] = Outcome.DISABLED
            self.disabled_at = t if self.disabled_at is None else min(t, self.disabled_at)
            return
        if stop is not None:
            self.state[u] = Outcome.TOLD_NOT_TO if stop == "told-not-to" else Outcome.NOT_RETRYABLE
            return
        reasons[u] = _retry_reason(reply)
        wait = 0.0
        if "retry-after" in policy.honours:
            wait = retry_after_seconds(reply.header("Retry-After"), self.config.clock()) or 0.0
        self._retry(t, u, k, heap, wait)


class _Stream:
    """The sliding window's state, shared by the threaded and the event-loop drivers of ``_Run.streamed``."""

    def __init__(self, run: _Run, factory: DeliveryFactory) -> None:
        self.run = run
        self.factory = factory
        config = run.config
        self.clock = run._clock()
        self.heap: list[tuple[float, int, int]] = []
        self.reasons: dict[int, str] = {}
        self.inflight: dict[Any, tuple[float, int, int]] = {}
        self.limit = max(1, config.concurrency)
        self.deadline = config.monotonic() + config.max_wall
        self.url, self.timeout = config.url or "", config.provider.timeout
        self.i = 0
        self.last_progress = 0.0
        self.filling = True
        self.built_to = 0  # first attempts below this unit have their deliveries built
        self.scaled = bool(config.time_scale)

    def take(self) -> tuple[float, int, int, Delivery] | None:
        """The next attempt to start now (time, unit, attempt, delivery); None when none is due or the run stops."""
        run, clock, heap = self.run, self.clock, self.heap
        arrivals, n = run.wl.arrivals, run.wl.units
        while self.filling and (self.i < n or heap):
            t, u, k, from_heap = _next_due(heap, arrivals, self.i, n)
            if run.disabled_at is not None and t > run.disabled_at:
                self.filling = False
                return None
            if self.inflight and not clock.ready(t):
                return None  # due later in scaled time: collect answers meanwhile
            if not clock.advance_to(t):
                run.stopped, self.filling = True, False
                return None
            if from_heap:
                heapq.heappop(heap)
            else:
                self.i += 1
                if u >= self.built_to and not self.scaled:
                    # the next deliveries' bodies and keys in one tight run, not one between every two requests
                    # (the same units in the same order: the seeded output does not change)
                    self.built_to = min(n, u + _PREFETCH)
                    self.factory.prefetch(range(u, self.built_to))
            if run._start(t, u, k, heap, self.reasons):
                continue
            delivery = self.factory.attempt(u, k, self.reasons.get(u))
            run.requests += 1
            if run.requests >= run.config.max_requests:
                self.filling = False
            return t, u, k, delivery
        return None

    def fill(self, submit: Callable[[Delivery, str, float], Any]) -> bool:
        """Start every attempt that is due while the window has room; False when nothing is left in flight."""
        inflight = self.inflight
        while len(inflight) < self.limit:
            job = self.take()
            if job is None:
                break
            t, u, k, delivery = job
            inflight[submit(delivery, self.url, self.timeout)] = (t, u, k)
        return bool(inflight)

    def settle(self, answers: list[tuple[Any, Reply]]) -> None:
        """Act on the answers that arrived, then check the real-time budget and report progress."""
        run, config = self.run, self.run.config
        for handle, reply in answers:
            t, u, k = self.inflight.pop(handle)
            run._answered(t, u, k, reply, self.heap, self.reasons)
            if run.state[u] != Outcome.IN_FLIGHT:
                self.reasons.pop(u, None)
                self.factory.done(u)
        if config.monotonic() > self.deadline:
            self.filling = False
        if config.progress is not None and time.monotonic() - self.last_progress > 0.2:
            self.last_progress = time.monotonic()
            config.progress(self.clock.now, run.horizon)

    def finish(self) -> None:
        """Whether the run stopped with work left, and the endpoint-disabled settling."""
        run = self.run
        run.stopped = run.stopped or (run.disabled_at is None and bool(self.i < run.wl.units or self.heap))
        run._disable_rest(self.i, self.heap)


def _collect(
    finished: queue.SimpleQueue[concurrent.futures.Future[Reply]], timeout: float | None
) -> list[concurrent.futures.Future[Reply]]:
    """The answers that have arrived: wait for the first (up to ``timeout``), then take all that are there."""
    try:
        done = [finished.get(timeout=timeout)]
    except queue.Empty:
        return []
    while True:
        try:
            done.append(finished.get_nowait())
        except queue.Empty:
            return done


def _next_due(
    heap: list[tuple[float, int, int]], arrivals: Sequence[float], i: int, n: int
) -> tuple[float, int, int, bool]:
    """The earliest pending attempt: a retry from the heap or the next first attempt; and whether it is a retry."""
    if heap and (i >= n or heap[0][0] < arrivals[i]):
        t, u, k = heap[0]
        return t, u, k, True
    return arrivals[i], i, 1, False


def _failure_class(reply: Reply) -> str:
    """How a request failed, for the breakdown: ``HTTP 503``, or the error class when nothing answered."""
    if reply.status:
        return f"HTTP {reply.status}"
    error = (reply.error or "").lower()
    for word, kind in (("timed out", "timeout"), ("refused", "refused"), ("reset", "reset"), ("closed", "reset")):
        if word in error:
            return kind
    return "no answer"


def _retry_reason(reply: Reply) -> str:
    """Slack's names for why the previous attempt failed."""
    if reply.status == 0:
        return "http_timeout" if reply.error and "timed out" in reply.error else "connection_failed"
    return "http_error"


def _delays(policy: RetryPolicy) -> list[float]:
    """The base wait after each failed attempt, as far as the window (with jitter at its shortest) can reach."""
    delays: list[float] = []
    total = 0.0
    shrink = 1.0 - policy.jitter
    while len(delays) < _MAX_ATTEMPTS:
        delay = policy.base_delay(len(delays) + 1)
        if delay is None or math.isinf(delay):
            break
        delays.append(delay)
        total += delay
        if policy.window is not None and total * shrink > policy.window:
            break
    return delays


class DeliveryFactory:
    """Builds each unit's delivery once (resends reuse the original's) and signs each attempt as the provider does."""

    def __init__(self, config: SimConfig, policy: RetryPolicy, workload: Workload) -> None:
        from harness.signing import sign_delivery
        from harness.volume import FreshDeliveries

        self.sign = sign_delivery  # imported here, once (an import statement per attempt costs a lookup each time)
        self.config = config
        self.policy = policy
        self.workload = workload
        # the one delivery pool (as load and Locust): fresh keys per delivery; where the key travels in a header, a
        # body serves several deliveries under fresh headers and keys
        self.pool = FreshDeliveries(
            config.provider,
            config.event_types,
            seed=config.seed,
            pass_through_rate=config.pass_through_rate,
            reuse=_BODIES,
        )
        self.built: dict[int, Delivery] = {}
        self.first_signed: dict[int, Delivery] = {}
        # where a re-keyed body's signature depends on nothing but the body (GitHub's HMAC: no time, nonce, key
        # header or token), the headers signing added to that body, reused under every fresh key (checked per run)
        self.body_only: bool | None = None if self.pool.rekey is not None and config.objects is None else False
        self.signatures: dict[int, tuple[bytes, dict[str, str]]] = {}  # id(body) -> (body, the signature headers)

    def base(self, uid: int) -> Delivery:
        """The unsigned delivery of a unit (built once per original)."""
        uid = self.workload.original(uid)
        found = self.built.get(uid)
        if found is not None:
            return found
        if self.config.objects is not None:  # a lifecycle object's step: its id and version are the object's
            delivery = self.config.objects.delivery(uid)
        else:
            types = self.workload.types_of(uid)
            delivery = self.pool.fresh(len(types), types=types)
        self.built[uid] = delivery
        return delivery

    def prefetch(self, uids: range) -> None:
        """Build these units' deliveries now (in order), ahead of their first attempts."""
        base = self.base
        for uid in uids:
            base(uid)

    def attempt(self, uid: int, attempt: int, reason: str | None = None) -> Delivery:
        """Attempt ``attempt``: same idempotency key, retry headers, a fresh signature where the provider re-signs."""
        headers = self.policy.resend_headers(attempt - 1, reason or "http_error") if attempt > 1 else {}
        if attempt > 1 and not self.policy.resign_each_attempt and uid in self.first_signed:
            first = self.first_signed[uid]
            return first.with_headers(headers) if headers else first
        delivery = self.base(uid)
        if headers:
            delivery = delivery.with_headers(headers)
        elif self.body_only is not False:
            known = self.signatures.get(id(delivery.body))
            if known is not None and known[0] is delivery.body and self.body_only:
                signed = delivery._with_signed({**delivery.headers, **known[1]})
                if attempt == 1 and not self.policy.resign_each_attempt:
                    self.first_signed[uid] = signed
                return signed
        now = self.config.clock()
        signed = self.sign(self.config.provider, delivery, self.config.credentials, now=now, url=self.config.url)
        if not headers and self.body_only is not False:
            added = {k: v for k, v in signed.headers.items() if delivery.headers.get(k) != v}
            if self.body_only is None:
                self.body_only = self._signs_body_only(delivery, signed, added, now)
            if self.body_only:
                self.signatures[id(delivery.body)] = (delivery.body, added)
        if attempt == 1 and not self.policy.resign_each_attempt:
            self.first_signed[uid] = signed
        return signed

    def _signs_body_only(self, delivery: Delivery, signed: Delivery, added: dict[str, str], now: float) -> bool:
        """Whether adding ``added`` to ``delivery`` under another key header, an hour later, gives exactly what
        signing it gives (header order included): the signature then depends on the body alone."""
        config = self.config
        if config.credentials.token_url or config.credentials.client_id:
            return False  # an OAuth token expires
        if signed != delivery._with_signed({**delivery.headers, **added}):
            return False
        key = config.provider.idempotency_key.name
        other = delivery.with_headers({key: f"{delivery.header(key) or ''}-other"})
        again = self.sign(config.provider, other, config.credentials, now=now + 3600.0, url=config.url)
        predicted = other._with_signed({**other.headers, **added})
        return again == predicted and list(again.headers.items()) == list(predicted.headers.items())

    def done(self, uid: int) -> None:
        """The unit needs no more attempts: forget its first signature."""
        self.first_signed.pop(uid, None)

    def keys(self, uid: int) -> tuple[str, ...]:
        """The idempotency keys a unit carries."""
        return self.base(uid).idempotency_keys
