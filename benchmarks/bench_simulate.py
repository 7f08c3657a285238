"""Retry simulator benchmarks, every ratio measured against its baseline in the same run (medians).

1. 1,000,000 SendGrid events through the 24 h rolling policy with a 6 h outage, dry run, against the bare heapq
   loop of ../shared/docs/baselines/sim_bench.py over the same schedule (target: at most 2x its time), and the peak
   RSS of a full run in a fresh process (target: at most 1 GB).
2. Scaling: 10^6 and 10^7 events one delivery each and batched, and 10^8 batched (outside --quick, where 10^5 and
   10^6 stand in), each in a fresh process: peak RSS (target: at most 300 MB at 10^7), time (10^7 within 12x the
   10^6 time, one delivery each) and 10^8 batched in under 10 minutes. Memory follows what is in flight, so it must
   stay flat while the time grows linearly.
3. Real HTTP: deliveries per second of harness.transport.aio and of the whole simulator (payloads, signing, policy,
   transport) against a bare aiohttp client loop, on a loopback aiohttp server and on the reference receiver
   (target: at least 50%).

    .venv/bin/python benchmarks/bench_simulate.py [--events 1000000] [--repeats 3] [--http 5000] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import heapq
import itertools
import json
import random
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Targets, median_time, table

from harness.catalog import load_catalog
from harness.core.models import Delivery
from harness.credentials import Credentials
from harness.simulate import Outages, RetryPolicy, SimConfig, run_simulation

OUTAGE = (0.0, 6 * 3600.0)
DAY = 86_400.0
HTTP_PROVIDER = "github"


def baseline(n: int, gaps: Sequence[float], window: float, seed: int = 1) -> tuple[int, int, int]:
    """sim_bench.py's ``sim_heapq`` with its random failures replaced by the outage, and SendGrid's schedule."""
    rnd = random.Random(seed)
    rand = rnd.random
    arrivals = [rand() * DAY for _ in range(n)]
    heap = [(arrivals[i], i, 1) for i in range(n)]
    heapq.heapify(heap)
    pop, push = heapq.heappop, heapq.heappush
    start, end = OUTAGE
    max_attempts = len(gaps) + 1
    attempts = delivered = dead = 0
    while heap:
        now, ev, k = pop(heap)
        attempts += 1
        if not start <= now < end:
            delivered += 1
        elif k < max_attempts and now + gaps[k - 1] - arrivals[ev] <= window:
            push(heap, (now + gaps[k - 1], ev, k + 1))
        else:
            dead += 1
    return attempts, delivered, dead


def ours(n: int, batch: bool) -> tuple[int, int, int]:
    """The simulator, per event (the baseline's units) or batched per 30 s flush as the CLI runs SendGrid."""
    provider = load_catalog().get("sendgrid")
    config = SimConfig(provider, event_count=n, spread=DAY, outages=Outages([OUTAGE]), seed=1, batch=batch)
    result = run_simulation(config)
    return result.attempts, result.delivered, result.lost


def own_peak_rss_kb() -> int:
    """This process's peak RSS in KiB: VmHWM on Linux (ru_maxrss survives exec, so a child started from a large
    parent would report the parent's size), ru_maxrss elsewhere."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def fresh_run(n: int, batch: bool) -> tuple[float, float, tuple[int, int, int]]:
    """One simulation in a fresh process: (seconds, peak RSS in MB measured there, its figures)."""
    code = (
        "import json, sys, time\n"
        f"sys.path.insert(0, {str(Path(__file__).resolve().parent)!r})\n"
        "from bench_simulate import own_peak_rss_kb, ours\n"
        "started = time.perf_counter()\n"
        f"got = ours({n}, {batch})\n"
        "print(json.dumps([time.perf_counter() - started, own_peak_rss_kb(), got]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    seconds, rss_kb, got = json.loads(out.strip().splitlines()[-1])
    return seconds, rss_kb / 1024, (got[0], got[1], got[2])


def peak_rss_mb(n: int, batch: bool) -> float:
    """Peak RSS of one simulation in a fresh process."""
    return fresh_run(n, batch)[1]


def scaling(sizes: Sequence[int], batched_only: int | None, repeats: int) -> list[tuple[int, bool, float, float]]:
    """(events, batched, median seconds, median peak RSS MB) for each size, one delivery each and batched, plus
    ``batched_only`` events batched (once), each run in a fresh process."""
    rows: list[tuple[int, bool, float, float]] = []
    plan = [(n, batch, repeats) for n in sizes for batch in (False, True)]
    if batched_only:
        plan.append((batched_only, True, 1))
    for n, batch, times in plan:
        runs = [fresh_run(n, batch) for _ in range(times)]
        rows.append((n, batch, statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)))
    return rows


_ECHO = """
import asyncio, sys
from aiohttp import web
async def ok(request):
    await request.read()
    return web.Response(text="ok")
async def main():
    app = web.Application()
    app.router.add_post("/hook", ok)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(site._server.sockets[0].getsockname()[1], flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await runner.cleanup()
asyncio.run(main())
"""


@contextmanager
def echo_server() -> Iterator[str]:
    """A bare aiohttp server in its own process answering 200 at once; stopped (by its own pid) on exit."""
    proc = subprocess.Popen([sys.executable, "-c", _ECHO], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        yield f"http://127.0.0.1:{port}/hook"
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def bare_aiohttp(url: str, deliveries: Sequence[Delivery], concurrency: int = 64) -> float:
    """Deliveries/s of a plain aiohttp client loop (the baselines' clients.py): semaphore, gather, read."""
    import aiohttp

    async def run() -> float:
        gate = asyncio.Semaphore(concurrency)
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:

            async def post(d: Delivery) -> None:
                async with gate, session.post(url, data=d.body, headers=dict(d.headers)) as response:
                    await response.read()

            started = time.perf_counter()
            await asyncio.gather(*(post(d) for d in deliveries))
            return len(deliveries) / (time.perf_counter() - started)

    return asyncio.run(run())


def transport_only(url: str, deliveries: Sequence[Delivery], concurrency: int = 64) -> float:
    """Deliveries/s of harness.transport.aio on the same pre-signed deliveries (streamed submits)."""
    import concurrent.futures

    from harness.transport.aio import AioTransport

    with AioTransport(concurrency=concurrency) as transport:
        transport.send(deliveries[0], url, timeout=10)  # connect
        started = time.perf_counter()
        futures = [transport.submit(d, url, timeout=10) for d in deliveries]
        concurrent.futures.wait(futures)
        elapsed = time.perf_counter() - started
    assert all(f.result().ok for f in futures)
    return len(deliveries) / elapsed


# A typical GitHub subscription (`simulate --event`): the simulator generates a few bodies per subscribed type and
# re-keys them, so what is timed is the simulator, not first draws of 259 types' bodies (bench_generation times those)
SUBSCRIBED = ("push", "pull_request.opened", "issues.opened", "workflow_run.completed", "check_run.completed")


def simulator(url: str, n: int, credentials: Credentials, concurrency: int = 64) -> float:
    """Deliveries/s of the whole simulator in real-HTTP mode: generation, signing, policy, transport."""
    from harness.transport.aio import AioTransport

    provider = load_catalog().get(HTTP_PROVIDER)
    config = SimConfig(
        provider,
        RetryPolicy.from_profile(provider),
        event_count=n,
        spread=3600,
        url=url,
        credentials=credentials,
        dry_run=False,
        seed=2,
        max_requests=n,
        concurrency=concurrency,
        event_types=SUBSCRIBED,
    )
    with AioTransport(concurrency=concurrency) as transport:
        started = time.perf_counter()
        result = run_simulation(config, transport=transport)
        elapsed = time.perf_counter() - started
    assert result.delivered == n, result.render()
    return result.requests / elapsed


def signed_deliveries(n: int, credentials: Credentials) -> list[Delivery]:
    """``n`` signed deliveries for the HTTP provider."""
    from harness.signing import sign_delivery
    from harness.volume import VolumeGenerator

    provider = load_catalog().get(HTTP_PROVIDER)
    return [sign_delivery(provider, d, credentials) for d in VolumeGenerator(provider, seed=1).deliveries(n)]


def medians(fns: dict[str, Callable[[], float]], repeats: int) -> dict[str, float]:
    """Median of each rate, the measurements interleaved so that drift hits every one alike."""
    runs: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            runs[name].append(fn())
    return {name: statistics.median(values) for name, values in runs.items()}


def http_rates(n: int, repeats: int) -> dict[str, float]:
    """Bare aiohttp vs our transport vs the whole simulator, on an echo server and on the reference receiver."""
    from harness.receiver import ReferenceReceiver

    rates: dict[str, float] = {}
    creds = Credentials(secret="bench-secret-0123456789")
    deliveries = signed_deliveries(n, creds)
    with echo_server() as url:
        bare_aiohttp(url, deliveries[:200])  # warm-up
        got = medians(
            {
                "echo bare": lambda: bare_aiohttp(url, deliveries),
                "echo transport": lambda: transport_only(url, deliveries),
                "echo simulate": lambda: simulator(url, n, creds),
            },
            repeats,
        )
        rates.update(got)
    with ReferenceReceiver(HTTP_PROVIDER) as rx:
        rx_creds = rx.credentials
        rx_deliveries = signed_deliveries(n, rx_creds)
        bare_aiohttp(rx.url, rx_deliveries[:200])  # warm-up: connections, caches, the SQLite file
        got = medians(
            {
                "receiver bare": lambda: bare_aiohttp(rx.url, rx_deliveries),
                "receiver simulate": lambda: simulator(rx.url, n, rx_creds),
            },
            repeats,
        )
        rates.update(got)
    return rates


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--http", type=int, default=5000, help="deliveries per HTTP measurement")
    parser.add_argument("--quick", action="store_true", help="20,000 events, 300 deliveries, one repeat")
    args = parser.parse_args()
    n, repeats, http_n = (20_000, 1, 300) if args.quick else (args.events, args.repeats, args.http)

    policy = RetryPolicy.from_profile(load_catalog().get("sendgrid"))
    schedule = policy.schedule()
    gaps = [b - a for a, b in itertools.pairwise(schedule)]
    base_t, base_r = median_time(lambda: baseline(n, gaps, policy.window or DAY), repeats)
    flat_t, flat_r = median_time(lambda: ours(n, batch=False), repeats)
    batch_t, batch_r = median_time(lambda: ours(n, batch=True), repeats)
    rss_flat, rss_batch = peak_rss_mb(n, False), peak_rss_mb(n, True)
    print(f"{n:,} SendGrid events over 24 h, rolling 24 h policy, outage 0h..6h, dry run, medians of {repeats}")
    print(
        table(
            [
                ("", "median s", "attempts", "delivered", "lost", "peak RSS"),
                (
                    "bare heapq loop (baseline)",
                    f"{base_t:.2f}",
                    f"{base_r[0]:,}",
                    f"{base_r[1]:,}",
                    f"{base_r[2]:,}",
                    "",
                ),
                (
                    "simulate, one delivery per event",
                    f"{flat_t:.2f}",
                    f"{flat_r[0]:,}",
                    f"{flat_r[1]:,}",
                    f"{flat_r[2]:,}",
                    f"{rss_flat:.0f} MB",
                ),
                (
                    "simulate, batched per 30 s (as the CLI)",
                    f"{batch_t:.2f}",
                    f"{batch_r[0]:,}",
                    f"{batch_r[1]:,}",
                    f"{batch_r[2]:,}",
                    f"{rss_batch:.0f} MB",
                ),
            ]
        )
    )
    ratio = flat_t / base_t
    print(f"ratio simulate / baseline (same units): {ratio:.2f}x (target <= 2x); batched: {batch_t / base_t:.2f}x")
    print(f"peak RSS: {max(rss_flat, rss_batch):.0f} MB (target <= 1024 MB)")

    small, large = (100_000, 1_000_000) if args.quick else (1_000_000, 10_000_000)
    huge = None if args.quick else 100_000_000
    grown = scaling((small, large), huge, repeats)
    print(f"\nscaling, dry run, each in a fresh process, medians of {repeats} (10^8 once)")
    print(
        table(
            [
                ("events", "delivered as", "seconds", "peak RSS"),
                *(
                    (f"{n:,}", "batches (30 s flush)" if batch else "one delivery each", f"{t:.1f}", f"{mb:.0f} MB")
                    for n, batch, t, mb in grown
                ),
            ]
        )
    )
    by = {(n, batch): (t, mb) for n, batch, t, mb in grown}
    growth = by[(large, False)][0] / by[(small, False)][0]
    rss_large = max(by[(large, False)][1], by[(large, True)][1])
    print(f"time {large:,} / {small:,} events, one delivery each: {growth:.1f}x (target <= 12x)")
    print(f"peak RSS at {large:,} events: {rss_large:.0f} MB (target <= 300 MB)")
    if huge:
        print(f"{huge:,} events batched: {by[(huge, True)][0]:.0f} s (target < 600 s), {by[(huge, True)][1]:.0f} MB")

    rates = http_rates(http_n, repeats)
    transport_ratio = rates["echo transport"] / rates["echo bare"]
    echo_ratio = rates["echo simulate"] / rates["echo bare"]
    rx_ratio = rates["receiver simulate"] / rates["receiver bare"]
    print(f"\nHTTP, {http_n:,} {HTTP_PROVIDER} deliveries per run, 64 concurrent, medians of {repeats} (deliveries/s)")
    print(
        table(
            [
                ("server", "bare aiohttp", "harness.transport.aio", "simulate (all)", "ratios"),
                (
                    "aiohttp echo (own process)",
                    f"{rates['echo bare']:,.0f}",
                    f"{rates['echo transport']:,.0f}",
                    f"{rates['echo simulate']:,.0f}",
                    f"transport {transport_ratio:.2f}, simulate {echo_ratio:.2f}",
                ),
                (
                    "reference receiver",
                    f"{rates['receiver bare']:,.0f}",
                    "",
                    f"{rates['receiver simulate']:,.0f}",
                    f"simulate {rx_ratio:.2f}",
                ),
            ]
        )
    )
    print(f"ratio transport / bare aiohttp: {transport_ratio:.2f} (target >= 0.5)")
    print(f"ratio simulate / bare aiohttp on the reference receiver: {rx_ratio:.2f} (target >= 0.5)")
    summary = {
        "events": n,
        "baseline_s": base_t,
        "per_event_s": flat_t,
        "batched_s": batch_t,
        "ratio": ratio,
        "rss_mb": max(rss_flat, rss_batch),
        "scaling": [{"events": n, "batched": b, "seconds": t, "rss_mb": mb} for n, b, t, mb in grown],
        "http": rates,
        "transport_ratio": transport_ratio,
        "echo_simulate_ratio": echo_ratio,
        "receiver_ratio": rx_ratio,
        "peak_rss_this_process_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    print(json.dumps(summary))
    targets = Targets(args.quick)
    targets.figure("simulate dry run per 10^6 events", flat_t * 1e6 / n, "s", better="lower")
    targets.figure("simulate / heapq baseline", ratio, "x", better="lower")
    targets.figure("peak RSS", max(rss_flat, rss_batch), "MB", better="lower")
    targets.figure(f"simulate {large:,} / {small:,} events time", growth, "x", better="lower")
    targets.figure(f"peak RSS at {large:,} events", rss_large, "MB", better="lower")
    targets.expect(growth <= 12, f"{large:,} events within 12x the time of {small:,}")
    targets.expect(rss_large <= 300, f"peak RSS at {large:,} events <= 300 MB")
    if huge:
        targets.figure("simulate 10^8 batched", by[(huge, True)][0], "s", better="lower")
        targets.figure("peak RSS 10^8 batched", by[(huge, True)][1], "MB", better="lower")
        targets.expect(by[(huge, True)][0] < 600, "10^8 events batched in under 10 minutes")
    targets.figure("transport / bare aiohttp", transport_ratio, "x")
    targets.figure("receiver deliveries/s", rates["receiver simulate"], "deliveries/s")
    targets.figure("simulate / bare on the reference receiver", rx_ratio, "x")
    targets.expect(ratio <= 2, "simulate <= 2x the heapq baseline")
    targets.expect(max(rss_flat, rss_batch) <= 1024, "peak RSS <= 1 GB")
    targets.expect(transport_ratio >= 0.5, "transport >= 0.5 of bare aiohttp")
    targets.expect(rx_ratio >= 0.5, "simulate >= 0.5 of bare aiohttp on the reference receiver")
    return targets.exit_code()


if __name__ == "__main__":
    sys.exit(main())
