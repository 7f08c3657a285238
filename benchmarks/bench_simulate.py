"""Retry simulator: 1,000,000 SendGrid events through the 24 h policy with a 6 h outage (dry run), against a bare
heapq loop over the same schedule; peak RSS; and HTTP throughput against a bare aiohttp client.

    .venv/bin/python benchmarks/bench_simulate.py [--events 1000000] [--repeats 3] [--quick]
"""

from __future__ import annotations

import argparse
import heapq
import json
import random
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import median_time, table

from harness.catalog import load_catalog
from harness.simulate.engine import SimConfig, run_simulation
from harness.simulate.outages import Outages
from harness.simulate.policy import RetryPolicy

OUTAGE = (0.0, 6 * 3600.0)
DAY = 86_400.0


def bare_heapq(n: int, gaps: list[float], window: float, seed: int = 0) -> tuple[int, int]:
    """The baseline: the same arrivals, schedule and outage in the barest heapq loop."""
    rnd = random.Random(seed)
    rand = rnd.random
    arrivals = sorted(rand() * DAY for _ in range(n))
    heap = [(arrivals[i], i, 1) for i in range(n)]
    heapq.heapify(heap)
    pop, push = heapq.heappop, heapq.heappush
    start, end = OUTAGE
    attempts = delivered = 0
    last = len(gaps)
    while heap:
        t, i, k = pop(heap)
        attempts += 1
        if start <= t < end:
            if k <= last:
                nxt = t + gaps[k - 1]
                if nxt - arrivals[i] <= window:
                    push(heap, (nxt, i, k + 1))
        else:
            delivered += 1
    return attempts, delivered


def ours(n: int) -> tuple[int, int]:
    provider = load_catalog().get("sendgrid")
    policy = RetryPolicy.from_provider(provider)
    config = SimConfig(provider=provider, policy=policy, event_count=n, spread=DAY, outages=Outages([OUTAGE]))
    result = run_simulation(config)
    return result.attempts, result.delivered


def peak_rss_mb(n: int) -> float:
    """Run the simulation in a fresh process and read its peak RSS."""
    code = (
        "import resource, sys\n"
        f"sys.path.insert(0, {str(Path(__file__).resolve().parent)!r})\n"
        "from bench_simulate import ours\n"
        f"ours({n})\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return int(out.strip().splitlines()[-1]) / 1024


class EchoServer:
    """A bare aiohttp server answering 200 at once: measures the clients, not the receiver."""

    def __init__(self) -> None:
        import asyncio
        import threading

        from aiohttp import web

        async def ok(request: web.Request) -> web.Response:
            await request.read()
            return web.Response(text="ok")

        self.loop = asyncio.new_event_loop()
        app = web.Application()
        app.router.add_post("/hook", ok)
        self.runner = web.AppRunner(app, access_log=None)
        self.loop.run_until_complete(self.runner.setup())
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        self.loop.run_until_complete(site.start())
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/hook"
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def __enter__(self) -> EchoServer:
        return self

    def __exit__(self, *exc: object) -> None:
        import asyncio

        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


def http_throughput(n: int, echo: bool = False) -> tuple[float, float]:
    """Deliveries/s: our simulator's HTTP mode vs a bare aiohttp client (64 concurrent) on the same receiver."""
    import asyncio
    import time
    from contextlib import nullcontext

    import aiohttp

    from harness.receiver import ReferenceReceiver
    from harness.signing import sign_delivery
    from harness.transport.aio import AioTransport
    from harness.volume import VolumeGenerator

    provider = load_catalog().get("github")
    with ReferenceReceiver(provider) as rx, EchoServer() if echo else nullcontext() as server:
        creds = rx.credentials
        url = server.url if server is not None else rx.url
        signed = [sign_delivery(provider, d, creds) for d in VolumeGenerator(provider, seed=1).deliveries(n)]

        async def bare() -> float:
            gate = asyncio.Semaphore(64)
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64)) as session:

                async def post(d: object) -> None:
                    async with gate, session.post(url, data=d.body, headers=dict(d.headers)) as r:  # type: ignore[attr-defined]
                        await r.read()

                started = time.perf_counter()
                await asyncio.gather(*(post(d) for d in signed))
                return n / (time.perf_counter() - started)

        asyncio.run(bare())  # warm-up: connections, receiver caches, SQLite file
        bare_rate = asyncio.run(bare())
        policy = RetryPolicy.from_provider(provider)
        config = SimConfig(
            provider=provider,
            policy=policy,
            event_count=n,
            spread=3600,
            url=url,
            credentials=creds,
            dry_run=False,
            seed=2,
            max_requests=n,
        )
        with AioTransport(concurrency=64) as transport:
            started = time.perf_counter()
            result = run_simulation(config, send=transport.send_many)
            ours_rate = result.requests / (time.perf_counter() - started)
    return bare_rate, ours_rate


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="100k events, one repeat")
    args = parser.parse_args()
    n, repeats = (100_000, 1) if args.quick else (args.events, args.repeats)
    provider = load_catalog().get("sendgrid")
    policy = RetryPolicy.from_provider(provider)
    schedule = policy.schedule()
    gaps = [schedule[i + 1] - schedule[i] for i in range(len(schedule) - 1)]
    base_t, base_r = median_time(lambda: bare_heapq(n, gaps, policy.window or DAY), repeats)
    ours_t, ours_r = median_time(lambda: ours(n), repeats)
    rss = peak_rss_mb(n)
    http_n = 1000 if args.quick else 5000
    bare_rates, our_rates = [], []
    for _ in range(repeats):
        bare_rate, our_rate = http_throughput(http_n)
        bare_rates.append(bare_rate)
        our_rates.append(our_rate)
    import statistics

    bare_rate, our_rate = statistics.median(bare_rates), statistics.median(our_rates)
    echo_runs = [http_throughput(http_n, echo=True) for _ in range(repeats)]
    echo_bare = statistics.median(r[0] for r in echo_runs)
    echo_ours = statistics.median(r[1] for r in echo_runs)
    rows = [
        ("", "median s", "attempts", "delivered"),
        ("bare heapq loop (baseline)", f"{base_t:.2f}", f"{base_r[0]:,}", f"{base_r[1]:,}"),
        ("webhook-harness simulate --dry-run", f"{ours_t:.2f}", f"{ours_r[0]:,}", f"{ours_r[1]:,}"),
    ]
    print(f"{n:,} SendGrid events, 24 h rolling policy, outage 0h..6h, medians of {repeats}")
    print(table(rows))
    print(f"ratio ours / baseline: {ours_t / base_t:.2f}x (target <= 2x)")
    print(f"peak RSS of a full run: {rss:.0f} MB (target <= 1024 MB)")
    print(f"HTTP against the reference receiver ({http_n} deliveries, medians of {repeats}):")
    print(
        f"  bare aiohttp client, 64 concurrent: {bare_rate:,.0f}/s; "
        f"simulate (signing, policy, aiohttp): {our_rate:,.0f}/s"
    )
    print(f"  ratio ours / bare aiohttp: {our_rate / bare_rate:.2f} (target >= 0.5)")
    print(f"HTTP against a bare aiohttp server answering 200 at once (the clients' own ceiling, {http_n} deliveries):")
    print(f"  bare aiohttp client: {echo_bare:,.0f}/s; simulate: {echo_ours:,.0f}/s; ratio {echo_ours / echo_bare:.2f}")
    summary = {
        "events": n,
        "baseline_s": base_t,
        "ours_s": ours_t,
        "ratio": ours_t / base_t,
        "rss_mb": rss,
        "http_bare_per_s": bare_rate,
        "http_ours_per_s": our_rate,
        "http_ratio": our_rate / bare_rate,
        "echo_bare_per_s": echo_bare,
        "echo_ours_per_s": echo_ours,
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
