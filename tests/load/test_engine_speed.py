"""The sender's hot loop: signatures made ahead where the time does not enter them, a bounded keep-alive pool, and
the default in-flight cap."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from aiohttp import web

from harness.catalog import load_catalog
from harness.credentials import Credentials
from harness.load import LoadConfig, open_schedule, play
from harness.load.engine import default_cap
from harness.load.source import DeliverySource
from harness.signing import sign_delivery

CATALOG = load_catalog()
GITHUB = Credentials(secret="test-secret-0123456789")
STANDARD = Credentials(secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")


def test_a_signature_without_a_timestamp_is_made_once_before_the_clock_starts() -> None:
    """GitHub signs only the body: the first send is signed ahead, byte for byte what signing at send time gives."""
    provider = CATALOG.get("github")
    clock = iter(float(t) for t in range(1_000_000, 2_000_000, 100))
    source = DeliverySource(provider, GITHUB, [1] * 5, seed=1, clock=lambda: next(clock))
    source.plan(list(range(5)), 5)
    assert set(source.ready) == set(range(5))
    first = source.signed(2)
    assert first is source.signed(2)  # no signing in the hot loop
    fresh = sign_delivery(provider, source.built[2], GITHUB, now=9e9)
    assert first.headers == fresh.headers and first.body == fresh.body


def test_a_timestamped_signature_is_still_made_at_send_time() -> None:
    """Standard Webhooks signs the time: nothing is signed ahead, each send carries the clock's time."""
    provider = CATALOG.get("standard")
    times = iter([1_700_000_000.0, 1_700_000_000.0, 1_700_000_100.0, 1_700_000_200.0] + [1_700_000_300.0] * 10)
    source = DeliverySource(provider, STANDARD, [1] * 3, seed=1, clock=lambda: next(times))
    source.plan(list(range(3)), 3)
    assert not source.ready
    one, two = source.signed(0), source.signed(0)
    assert one.header("webhook-timestamp") != two.header("webhook-timestamp")


def test_a_resend_is_signed_afresh_with_the_retry_headers() -> None:
    """A second attempt is never the ready-made first one."""
    provider = CATALOG.get("github")
    source = DeliverySource(provider, GITHUB, [1], seed=1)
    source.plan([0], 1)
    assert source.signed(0, 2) is not source.ready[0]


def test_bodies_per_type_reuses_each_types_bodies_under_fresh_keys() -> None:
    """``bodies_per_type``: a long GitHub run generates a few bodies per event type and sends them again under keys
    no other delivery carries; each delivery keeps its own type (a reused body is one of that type's)."""
    provider = CATALOG.get("github")
    events = ("push", "star.created", "fork")
    source = DeliverySource(provider, GITHUB, [1] * 60, events=events, seed=1, reuse=2)
    source.plan(list(range(60)), 60)
    built = [source.built[u] for u in range(60)]
    keys = [k for d in built for k in d.idempotency_keys]
    assert len(keys) == len(set(keys)) == 60
    assert {t for d in built for t in d.event_types} == set(events)
    for name in events:
        bodies = {d.body for d in built if list(d.event_types) == [name]}
        assert 1 <= len(bodies) <= 2  # at most two generated bodies of each type, the rest the same under new keys
    plain = DeliverySource(provider, GITHUB, [1] * 10, events=events, seed=1)
    plain.plan(list(range(10)), 10)
    assert len({plain.built[u].body for u in range(10)}) == 10  # by default every body is generated


@contextmanager
def _counting_server(hold: float = 0.02) -> Iterator[tuple[str, set[int], list[int]]]:
    """A loopback aiohttp server that answers 200 ``hold`` seconds later and records each client port it saw."""
    ports: set[int] = set()
    peak = [0, 0]  # in flight now, most in flight at once
    ready = threading.Event()
    state: dict[str, object] = {}

    async def hook(request: web.Request) -> web.Response:
        await request.read()
        peer = request.transport.get_extra_info("peername") if request.transport else None
        ports.add(peer[1] if peer else 0)
        peak[0] += 1
        peak[1] = max(peak[1], peak[0])
        await asyncio.sleep(hold)  # hold the connection, so the sender needs more than one
        peak[0] -= 1
        return web.Response(text="ok")

    def serve() -> None:
        loop = asyncio.new_event_loop()
        state["loop"] = loop
        app = web.Application()
        app.router.add_post("/hook", hook)
        runner = web.AppRunner(app, access_log=None)
        loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        loop.run_until_complete(site.start())
        state["port"] = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        ready.set()
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())
        loop.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert ready.wait(10)
    try:
        yield f"http://127.0.0.1:{state['port']}/hook", ports, peak
    finally:
        loop = state["loop"]
        loop.call_soon_threadsafe(loop.stop)  # type: ignore[attr-defined]
        thread.join(10)


def test_starts_beyond_the_keep_alive_pool_wait_for_a_connection_and_are_not_dropped() -> None:
    """40 starts at once, 40 may be in flight, over 4 connections: the receiver sees 4 connections, none dropped."""
    provider = CATALOG.get("github")
    with _counting_server() as (url, ports, peak):
        schedule = open_schedule(provider, rate=4000, duration=0.01)
        run = play(LoadConfig(provider, url, schedule, GITHUB, concurrency=40, connections=4, timeout=5))
    assert run.stats.succeeded == schedule.starts == 40 and run.stats.dropped == 0
    assert len(ports) <= 4 and peak[1] <= 4


def test_the_in_flight_cap_still_drops_what_finds_it_full() -> None:
    """The drop rule is unchanged: a start that finds ``concurrency`` requests in flight is dropped, not queued."""
    provider = CATALOG.get("github")
    with _counting_server() as (url, _, _):
        schedule = open_schedule(provider, rate=4000, duration=0.01)
        run = play(LoadConfig(provider, url, schedule, GITHUB, concurrency=10, connections=4, timeout=5))
    assert run.stats.sent + run.stats.dropped == 40 and run.stats.dropped >= 20


def test_the_default_in_flight_cap_holds_the_busiest_second_within_its_bounds() -> None:
    """No --concurrency: the cap is the schedule's busiest second of starts, at least 256 and at most 10,000; the
    keep-alive pool is the cap, at most 256, unless --connections says otherwise."""
    provider = CATALOG.get("github")

    def config(
        rate: float, duration: float, concurrency: int | None = None, connections: int | None = None
    ) -> LoadConfig:
        schedule = open_schedule(provider, rate=rate, duration=duration)
        return LoadConfig(provider, "http://127.0.0.1:1/", schedule, concurrency=concurrency, connections=connections)

    assert default_cap(open_schedule(provider, rate=10, duration=5)) == 256
    assert default_cap(open_schedule(provider, rate=3000, duration=2)) == 3000
    assert default_cap(open_schedule(provider, rate=1_000_000, duration=0.02)) == 10_000
    assert (config(3000, 2).in_flight_cap, config(3000, 2).pool) == (3000, 256)
    assert (config(3000, 2, connections=64).pool, config(3000, 2, concurrency=100).pool) == (64, 100)
    assert config(3000, 2, concurrency=100, connections=400).pool == 100
    assert config(3000, 2, concurrency=7).in_flight_cap == 7


def test_by_default_a_burst_of_a_seconds_starts_is_not_dropped_while_a_fixed_256_cap_drops_it() -> None:
    """300 starts due within 0.1 ms (as after a 0.1 s stall at 3,000/s): the default cap holds them all; the old
    fixed default of 256 drops what finds it full (the drop rule itself is unchanged)."""
    provider = CATALOG.get("github")
    schedule = open_schedule(provider, rate=3_000_000, duration=0.0001)
    assert schedule.starts == 300
    with _counting_server() as (url, _, _):
        runs = [
            play(LoadConfig(provider, url, schedule, GITHUB, ("push",), concurrency=cap, timeout=5, bodies_per_type=1))
            for cap in (None, 256)
        ]
    assert runs[0].stats.dropped == 0 and runs[0].stats.succeeded == 300
    assert runs[1].stats.dropped > 0 and runs[1].stats.sent + runs[1].stats.dropped == 300


def test_a_receiver_that_stays_behind_still_fills_the_default_cap_and_gets_drops(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The default cap rides out a stall, it does not hide an overload: scaled down (a 0.05 s ride-out, no 256
    floor), a receiver answering 10 at a time in 0.2 s against 400 starts/s fills the cap and the rest are dropped."""
    from harness.load import engine

    monkeypatch.setattr(engine, "RIDE_OUT", 0.05)
    monkeypatch.setattr(engine, "CAP_MIN", 1)
    provider = CATALOG.get("github")
    schedule = open_schedule(provider, rate=400, duration=0.5)
    with _counting_server(hold=0.2) as (url, _, peak):
        run = play(LoadConfig(provider, url, schedule, GITHUB, ("push",), timeout=5, bodies_per_type=1))
    assert engine.default_cap(schedule) == 10 and peak[1] <= 10
    assert run.stats.sent + run.stats.dropped == 200 and run.stats.dropped >= 100


def test_young_collections_are_rarer_during_the_run_and_the_thresholds_come_back_after() -> None:
    """During the run a young collection waits for 10,000 net new objects (the requests in flight are not walked and
    promoted every 700); the caller's thresholds are back once ``play`` returns."""
    import gc

    provider = CATALOG.get("github")
    seen: list[tuple[int, int, int]] = []
    before = gc.get_threshold()
    with _counting_server() as (url, _, _):
        schedule = open_schedule(provider, rate=100, duration=0.05)
        config = LoadConfig(provider, url, schedule, GITHUB, ("push",), timeout=5, bodies_per_type=1)
        config.progress = lambda _stats, _elapsed: seen.append(gc.get_threshold())
        run = play(config)
    assert run.stats.succeeded == schedule.starts == 5
    assert seen and seen[-1][0] >= 10_000 and seen[-1][1:] == before[1:]
    assert gc.get_threshold() == before
