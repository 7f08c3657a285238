"""The open-model sender: each request starts at its scheduled moment, whatever the earlier ones are doing.

One asyncio loop, one aiohttp session. A start that finds ``concurrency`` requests in flight is *dropped* and
counted, never delayed; a start the loop itself reaches late is sent and its lag recorded. By default the cap holds
the schedule's busiest second (at least 256, at most 10,000), so a stall of the sender, the receiver or the machine
shorter than a second drops nothing, while a receiver that falls behind for good still fills it and gets drops.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import math
import time
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import aiohttp
import yarl

from harness.catalog import Provider
from harness.core.collector import fewer_young_collections
from harness.credentials import Credentials
from harness.errors import TransportError, UsageError
from harness.load.schedule import Schedule
from harness.load.source import DeliverySource
from harness.load.stats import LoadStats, error_class
from harness.net.options import NetworkOptions
from harness.transport import with_userinfo

__all__ = ["LoadConfig", "SenderRun", "check_reachable", "default_cap", "play"]

_MAX_BODY = 1 << 20  # read at most this much of an answer; a flooding receiver does not fill our memory
_PREPARE = 200_000  # deliveries built before the clock starts; beyond that, in chunks during the run
_LATE = 0.05  # a start more than this behind its schedule counts as late
_TICK = 0.002  # the scheduler wakes at most this often: starts due within one tick go out together
RIDE_OUT = 1.0  # seconds of starts at the schedule's busiest rate that the default in-flight cap holds
CAP_MIN, CAP_MAX = 256, 10_000  # the default in-flight cap's bounds (the upper one bounds the memory of a run)
POOL = 256  # keep-alive connections at most, by default (fewer when the in-flight cap is lower)


def default_cap(schedule: Schedule) -> int:
    """The in-flight cap when none is given: the busiest second's starts (``RIDE_OUT`` s), within the bounds."""
    times, peak, low = schedule.times, 0, 0
    last = max(1, math.ceil(schedule.duration - 1e-9)) - 1  # the seconds of ``Schedule.per_second``, by bisection
    for second in range(1, last + 1):
        high = bisect_left(times, second)
        peak, low = max(peak, high - low), high
    peak = max(peak, len(times) - low)
    return max(CAP_MIN, min(CAP_MAX, math.ceil(peak * RIDE_OUT)))


@dataclass
class LoadConfig:
    """What one sender plays against which receiver."""

    provider: Provider
    url: str
    schedule: Schedule
    credentials: Credentials = field(default_factory=Credentials)
    events: tuple[str, ...] = ()
    concurrency: int | None = None  # in-flight cap, a start beyond it is dropped (None: ``default_cap``)
    connections: int | None = None  # keep-alive connections at most (None: the cap, at most ``POOL``); starts wait
    timeout: float | None = None  # per request; None: the provider's own timeout
    seed: int = 0
    resend_reason: str = "http_timeout"
    progress: Callable[[LoadStats, float], None] | None = None  # about once a second: (stats so far, seconds)
    grace: float = 2.0  # after the last start, how long past the request timeout to wait for answers
    network: NetworkOptions = field(default_factory=NetworkOptions)  # TLS trust, client cert, proxy, gateway headers
    # > 0: where the key is a header, that many bodies generated per event type, then sent again under fresh keys
    # (a long run's deliveries cost a header each instead of a generated body); 0: every body generated
    bodies_per_type: int = 0

    @property
    def in_flight_cap(self) -> int:
        """Requests in flight at most: a start that finds this many is dropped."""
        return self.concurrency if self.concurrency is not None else default_cap(self.schedule)

    @property
    def pool(self) -> int:
        """Keep-alive connections at most: a start beyond them waits for one (its wait in its latency)."""
        cap = self.in_flight_cap
        return min(cap, self.connections) if self.connections is not None else min(cap, POOL)

    @property
    def request_timeout(self) -> float:
        """The per-request timeout in force."""
        return self.timeout if self.timeout is not None else float(self.provider.timeout)


@dataclass
class SenderRun:
    """What one sender did: its counters, the deliveries that got a 2xx, its time and CPU."""

    stats: LoadStats
    source: DeliverySource
    delivered_units: bytearray
    wall: float
    cpu: float
    prepare_s: float
    late: int = 0
    interrupted: bool = False  # Ctrl-C (or SIGINT from the parent) stopped it: the counts are partial

    def delivered_keys(self) -> list[str]:
        """Idempotency keys of every delivery that got at least one 2xx."""
        return self.source.keys([u for u, ok in enumerate(self.delivered_units) if ok])


def check_reachable(url: str, timeout: float = 5.0) -> None:
    """A TCP connection to the receiver's host and port, or a ``TransportError`` (nothing is sent)."""
    import socket

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"The receiver URL must be http:// or https://, got {url!r}.")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname, port), timeout=timeout):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise TransportError(
            f"The receiver {parts.scheme}://{parts.netloc.rpartition('@')[2]} is unreachable ({reason})."
        ) from None


def play(
    config: LoadConfig,
    *,
    ready: Callable[[], None] | None = None,
    source: DeliverySource | None = None,
) -> SenderRun:
    """Build the deliveries, call ``ready`` (a barrier for several processes), then play the schedule."""
    prepared_at = time.perf_counter()
    source = source or DeliverySource(
        config.provider,
        config.credentials,
        config.schedule.unit_sizes,
        events=config.events,
        seed=config.seed,
        resend_reason=config.resend_reason,
        url=config.url,
        reuse=config.bodies_per_type,
    )
    order = list(dict.fromkeys(config.schedule.units))
    collecting = gc.isenabled()
    gc.disable()  # building them makes only long-lived objects: collections on the way would walk them again and again
    try:
        source.plan(order, _PREPARE)
    finally:
        if collecting:
            gc.enable()
    if order:
        source.signed(order[0])  # fetch an OAuth token (cached) and warm the signing caches before the clock
    player = _Player(config, source)
    # the prepared deliveries are long-lived: frozen, a full collection never walks them in the middle of the run
    # (a stall that would bunch the next starts into a burst the concurrency cap then drops); done before the
    # barrier, so that several processes start their clocks together
    gc.collect()
    gc.freeze()
    prepare_s = time.perf_counter() - prepared_at
    if ready is not None:
        ready()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    interrupted = False
    try:
        with fewer_young_collections():  # the requests in flight are not walked again and again
            asyncio.run(player.run())
    except KeyboardInterrupt:
        interrupted = True  # keep what was counted: the caller prints the partial summary and writes the report
    finally:
        gc.unfreeze()
    return SenderRun(
        stats=player.stats,
        source=source,
        delivered_units=player.delivered,
        wall=time.perf_counter() - wall0,
        cpu=time.process_time() - cpu0,
        prepare_s=prepare_s,
        late=player.late,
        interrupted=interrupted,
    )


class _Player:
    """The state of one sender's run."""

    def __init__(self, config: LoadConfig, source: DeliverySource) -> None:
        self.config = config
        self.source = source
        self.stats = LoadStats()
        self.inflight = 0
        self.late = 0
        self.delivered = bytearray(config.schedule.units_count)
        self.session: aiohttp.ClientSession | None = None
        self.tasks: set[asyncio.Task[None]] = set()
        self.start = 0.0
        # parsed once: aiohttp would parse a string URL on every request
        self.urls: dict[tuple[str, str] | None, yarl.URL] = {None: yarl.URL(config.url)}

    async def run(self) -> None:
        config = self.config
        timeout = config.request_timeout
        network = config.network
        tls = network.ssl_context() if network != NetworkOptions() else True
        limit = config.pool
        connector = aiohttp.TCPConnector(limit=limit, limit_per_host=0, ssl=tls)
        session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=timeout),
            auto_decompress=False,
            trust_env=network.trust_env,
        )
        self.session = session
        loop = asyncio.get_running_loop()
        ticker = loop.create_task(self._progress()) if config.progress is not None else None
        try:
            await self._schedule(loop)
            deadline = loop.time() + timeout + config.grace
            while self.tasks and loop.time() < deadline:
                await asyncio.wait(set(self.tasks), timeout=max(0.0, deadline - loop.time()))
            for task in list(self.tasks):
                task.cancel()
            if self.tasks:
                await asyncio.wait(set(self.tasks), timeout=1.0)
        finally:
            if ticker is not None:
                ticker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await ticker
            await session.close()
            if config.progress is not None:
                config.progress(self.stats, loop.time() - self.start)

    async def _progress(self) -> None:
        progress = self.config.progress
        assert progress is not None
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(1.0)
            progress(self.stats, loop.time() - self.start)

    async def _schedule(self, loop: asyncio.AbstractEventLoop) -> None:
        schedule = self.config.schedule
        times, units, attempts = schedule.times, schedule.units, schedule.attempts
        n = len(times)
        cap = self.config.in_flight_cap
        sizes = schedule.unit_sizes
        stats, tasks, one = self.stats, self.tasks, self._one
        create, discard = loop.create_task, tasks.discard
        clock = loop.time
        self.start = start = clock()
        i = 0
        while i < n:
            now = clock() - start
            due = times[i]
            if due > now:
                await asyncio.sleep(max(due - now, _TICK))
                continue
            while i < n and times[i] <= now:
                at = times[i]
                if self.inflight >= cap:
                    stats.drop(at, sizes[units[i]])
                else:
                    self.inflight += 1
                    lag = now - at
                    if lag > _LATE:
                        self.late += 1
                    unit = units[i]
                    stats.started(at, lag, sizes[unit])
                    task = create(one(at, unit, attempts[i]))
                    tasks.add(task)
                    task.add_done_callback(discard)
                i += 1
            await asyncio.sleep(0)  # let the started requests run before the next look at the clock

    async def _one(self, at: float, unit: int, attempt: int) -> None:
        delivery = self.source.signed(unit, attempt)
        events = len(delivery.event_types) or 1
        scheduled = self.config.schedule.unit_sizes[unit]
        if events < scheduled:  # the batch was cut to fit the provider's size cap
            self.stats.trimmed(scheduled - events)
        userinfo = delivery.url_userinfo
        url = self.urls.get(userinfo)
        if url is None:
            url = self.urls[userinfo] = yarl.URL(with_userinfo(self.config.url, userinfo))
        session = self.session
        assert session is not None
        status = 0
        kind: str | None
        started = time.perf_counter()
        network = self.config.network
        headers = network.with_headers(delivery.headers) if network.headers else delivery.headers
        try:
            async with session.request(
                delivery.method, url, data=delivery.body, headers=headers, allow_redirects=False, proxy=network.proxy
            ) as response:
                status = response.status
                content, size = response.content, 0
                while size <= _MAX_BODY:
                    chunk = await content.readany()
                    if not chunk:
                        break
                    size += len(chunk)
            kind = None if 200 <= status < 300 else error_class(status)
        except asyncio.CancelledError:
            kind = "timeout"
        except Exception as exc:  # every failure of one request is a counted error, never a crash of the run
            kind = error_class(0, exc)
        finally:
            self.inflight -= 1
        self.stats.finished(at, time.perf_counter() - started, status, kind, events)
        if kind is None:
            self.delivered[unit] = 1
