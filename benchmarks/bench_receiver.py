"""The reference receiver against a bare aiohttp echo server, both in processes of their own (medians).

1. Deliveries per second a bare aiohttp client loop (64 in flight, the loop of bench_load and bench_simulate) gets
   from ``webhook-harness receiver PROVIDER`` against what it gets from a bare aiohttp echo server, measured in
   turn in the same run, each repeat with fresh idempotency keys (every delivery is a new row). On SQLite (the
   default temp file) and on PostgreSQL (a throw-away cluster from scripts/with-postgres); the ratio is the median
   of each receiver run's ratio to the echo run just before it, and each server's CPU time per delivery is printed
   beside it (a figure the machine's other load moves less than a rate). Target: at least 0.5x,
   for the headline provider ``standard`` (Standard Webhooks, HMAC-SHA256), ``github`` (HMAC over large bodies,
   strict schema validation) and ``sendgrid`` (ECDSA P-256, batched events).
2. p50 and p99 latency at half the rate the receiver reached in (1), open model (each start on schedule, its
   latency counted from the scheduled moment), from a client as light as the bare loop (pre-signed deliveries, one
   aiohttp session); the echo server's p50 and p99 at the same rate, same client, beside it, run just after it.
   Each figure is the median of ``--repeats`` such pairs of runs. Target: p99 < 20 ms.
3. Dedupe stays exact: every delivery is resent at once, concurrently, and a sample of keys is probed (count 1).

    .venv/bin/python benchmarks/bench_receiver.py [--repeats 5] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import math
import os
import shlex
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Targets, frozen_collector, table
from bench_simulate import _ECHO

from harness.catalog import load_catalog
from harness.core.models import Delivery
from harness.credentials import Credentials
from harness.signing import sign_delivery
from harness.volume import FreshDeliveries

ROOT = Path(__file__).resolve().parents[1]
HEADLINE = "standard"
PROVIDERS = (HEADLINE, "github", "sendgrid")
QUICK_PROVIDERS = (HEADLINE, "sendgrid")  # the smoke run: GitHub's large bodies take most of a quick run to generate
PG_ENV = "WEBHOOK_HARNESS_TEST_PG_URL"
_UNDER_PG = "BENCH_RECEIVER_UNDER_PG"  # set when this script re-ran itself under scripts/with-postgres
SHARE = 0.5  # the receiver's target: this share of the echo server's deliveries/s
P99_MS = 20.0


@dataclass
class Receiver:
    """A running ``webhook-harness receiver``: its URL, probe template and the credentials it made."""

    url: str
    probe: str
    credentials: Credentials
    pid: int


def _start(provider: str, db: str | None) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "harness", "receiver", provider, "--port", "0"] + (["--db", db] if db else [])
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEBHOOK_HARNESS_")}
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env, cwd=ROOT)


def _banner(provider: str, proc: subprocess.Popen[str]) -> Receiver:
    """The URL, probe and credentials a started receiver prints (read up to its "Ctrl-C" line)."""
    assert proc.stdout is not None
    url = probe = ""
    exports: dict[str, str] = {}
    for line in proc.stdout:
        text = line.strip()
        if text.startswith("URL:"):
            url = text.split(None, 1)[1]
        elif text.startswith("probe:"):
            probe = text.split(None, 1)[1]
        elif text.startswith("export "):
            name, _, value = text[len("export ") :].partition("=")
            exports[name] = shlex.split(value)[0]
        elif text.startswith("then:"):  # the check command: --token-url and --client-id (OAuth providers)
            words = shlex.split(text[len("then:") :].replace('"$WEBHOOK_HARNESS_BASIC"', ""))
            options = dict(itertools.pairwise(words))
            exports["token_url"] = options.get("--token-url", "")
            exports["client_id"] = options.get("--client-id", "")
        elif text.startswith("Ctrl-C"):
            break
    if not url:
        raise RuntimeError(f"the {provider} receiver did not start")
    creds = Credentials(
        secret=exports.get("WEBHOOK_HARNESS_SECRET"),
        signing_key=exports.get("WEBHOOK_HARNESS_SIGNING_KEY"),
        token_url=exports.get("token_url") or None,
        client_id=exports.get("client_id") or None,
        client_secret=exports.get("WEBHOOK_HARNESS_CLIENT_SECRET"),
    )
    return Receiver(url, probe, creds, proc.pid)


@contextmanager
def receivers(providers: Sequence[str], db: str | None) -> Iterator[dict[str, Receiver]]:
    """``webhook-harness receiver PROVIDER`` for each provider, each in its own process as a user runs it, all
    started at once (their start-up overlaps); each stopped by its pid (SIGTERM). One table per receiver."""
    procs = {provider: _start(provider, db) for provider in providers}
    try:
        yield {provider: _banner(provider, proc) for provider, proc in procs.items()}
    finally:
        for proc in procs.values():
            proc.send_signal(signal.SIGTERM)
        for proc in procs.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@contextmanager
def receiver(provider: str, db: str | None) -> Iterator[Receiver]:
    """One receiver (see :func:`receivers`)."""
    with receivers([provider], db) as started:
        yield started[provider]


REUSE = 3  # generated bodies per event type, then the same bodies under fresh keys (where the key is a header)
_makers: dict[str, FreshDeliveries] = {}


@contextmanager
def echo_server() -> Iterator[tuple[str, int]]:
    """bench_simulate's bare aiohttp echo server in its own process: (URL, pid); stopped on exit."""
    proc = subprocess.Popen([sys.executable, "-c", _ECHO], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        yield f"http://127.0.0.1:{int(proc.stdout.readline())}/hook", proc.pid
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def deliveries(provider_id: str, creds: Credentials, n: int, every_type: bool = False) -> list[Delivery]:
    """``n`` deliveries (or one of each event type) with keys never handed out before in this run, signed now.

    One generator per provider for the whole run: where the key is a header, each event type's few generated bodies
    come back under fresh keys (what ``load`` does), so a large GitHub body costs a header, not a generation.
    """
    provider = load_catalog().get(provider_id)
    maker = _makers.get(provider_id)
    if maker is None:
        maker = _makers[provider_id] = FreshDeliveries(provider, seed=int(time.time()), reuse=REUSE)
    now = time.time()
    events = provider.ordinary_events
    # each delivery's type chosen here: a reused body is one of its own type's (any type would be the first few)
    kinds = list(events) if every_type else [maker.rng.choice(events) for _ in range(n)]
    return [sign_delivery(provider, maker.fresh(1, now, [kind]), creds, now=now) for kind in kinds]


def bare_rate(url: str, sent: Sequence[Delivery], concurrency: int = 64) -> tuple[float, set[int]]:
    """(deliveries/s, which deliveries got an answer other than 2xx) of the bare aiohttp client loop: semaphore,
    gather, read.

    Here the loop is the instrument measuring two servers, not a peer, so its collector is frozen for both: a full
    collection walking what the bench holds paused it for up to ~150 ms, and the echo server's rate (which the client
    sets) was a quarter lower with it."""
    import aiohttp

    async def run() -> tuple[float, set[int]]:
        gate = asyncio.Semaphore(concurrency)
        refused: set[int] = set()
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:

            async def post(i: int, d: Delivery) -> None:
                async with gate, session.post(url, data=d.body, headers=dict(d.headers)) as response:
                    await response.read()
                    if not 200 <= response.status < 300:
                        refused.add(i)

            started = time.perf_counter()
            await asyncio.gather(*(post(i, d) for i, d in enumerate(sent)))
            return len(sent) / (time.perf_counter() - started), refused

    with frozen_collector():  # the client's pauses kept out of either server's figures (see frozen_collector)
        return asyncio.run(run())


def open_loop(url: str, sent: Sequence[Delivery], rate: float, connections: int = 64) -> tuple[list[float], int]:
    """(latencies in ms, answers other than 2xx) of pre-signed deliveries started on a fixed schedule (open model).

    The client is as light as the bare loop's (pre-signed bodies, one aiohttp session, no per-send signing or
    statistics), so what it measures is the server, not a CPU-starved sender; each latency runs from the scheduled
    start, so a late start counts against whoever made it late. Used alike for the receiver and the echo server.
    """
    import aiohttp

    async def run() -> tuple[list[float], int]:
        loop = asyncio.get_running_loop()
        latencies: list[float] = []
        failed = 0
        connector = aiohttp.TCPConnector(limit=connections)
        async with aiohttp.ClientSession(connector=connector) as session:

            async def post(d: Delivery, due: float) -> None:
                nonlocal failed
                async with session.post(url, data=d.body, headers=dict(d.headers)) as response:
                    await response.read()
                    failed += not 200 <= response.status < 300
                latencies.append((loop.time() - due) * 1000.0)

            tasks = []
            start = loop.time() + 0.05
            for i, d in enumerate(sent):
                due = start + i / rate
                wait = due - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                tasks.append(loop.create_task(post(d, due)))
            await asyncio.gather(*tasks)
        return latencies, failed

    with frozen_collector():
        return asyncio.run(run())


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile (``share`` in 0..1) of the values."""
    ordered = sorted(values)
    return ordered[min(len(ordered), max(1, math.ceil(share * len(ordered)))) - 1] if ordered else 0.0


def exact(rx: Receiver, sent: list[Delivery], refused: set[int]) -> bool:
    """Every delivery resent at once, concurrently; then a sample of keys probed: each stored exactly once.

    ``refused``: the deliveries the first send did not get a 2xx for (counted as errors already; not stored, so left
    out here)."""
    import aiohttp

    accepted = [d for i, d in enumerate(sent) if i not in refused]
    _, again = bare_rate(rx.url, accepted)
    keys = [key for d in accepted[:: max(1, len(accepted) // 50)] for key in d.idempotency_keys]

    async def counts() -> list[int]:
        async with aiohttp.ClientSession() as session:
            out = []
            for key in keys:
                async with session.get(rx.probe.replace("{event_id}", key)) as response:
                    out.append(int((await response.json())["count"]))
            return out

    return not again and all(c == 1 for c in asyncio.run(counts()))


def measure(
    backend: str, db: str | None, n: int, repeats: int, duration: float, providers: Sequence[str] = PROVIDERS
) -> dict[str, dict[str, float]]:
    """Per provider: echo and receiver deliveries/s (medians), their ratio, p50/p99 at half rate, dedupe exact."""
    out: dict[str, dict[str, float]] = {}
    with echo_server() as (echo_url, echo_pid), receivers(providers, db) as started:
        for provider_id in providers:
            rx = started[provider_id]
            # every event type first: the receiver compiles each type's schema on first use (a few ms each)
            warm = deliveries(provider_id, rx.credentials, 0, every_type=True)
            warm += deliveries(provider_id, rx.credentials, 200)
            bare_rate(echo_url, warm)
            bare_rate(rx.url, warm)
            ratios, echo_rates, rx_rates, echo_cpu, rx_cpu, failed = [], [], [], [], [], 0
            sent: list[Delivery] = []
            refused: set[int] = set()
            for _ in range(repeats):
                sent = deliveries(provider_id, rx.credentials, n)
                used = cpu_seconds(echo_pid)
                echo_rates.append(bare_rate(echo_url, sent)[0])
                echo_cpu.append((cpu_seconds(echo_pid) - used) / len(sent))
                used = cpu_seconds(rx.pid)
                rate, refused = bare_rate(rx.url, sent)
                rx_cpu.append((cpu_seconds(rx.pid) - used) / len(sent))
                rx_rates.append(rate)
                ratios.append(rate / echo_rates[-1])  # each receiver run against the echo run just before it
                failed += len(refused)
            echo, ours = statistics.median(echo_rates), statistics.median(rx_rates)
            half = ours / 2
            # latency: receiver then echo server at the same rate, repeated; each percentile the median of the runs'
            # (one burst of the machine's other load in one run moves a single run's p99 by tens of ms)
            latency: dict[str, list[float]] = {"p50": [], "p99": [], "echo p50": [], "echo p99": []}
            bad = 0
            for _ in range(repeats):
                timed = deliveries(provider_id, rx.credentials, max(50, int(half * duration)))
                ours_ms, refused_now = open_loop(rx.url, timed, half)
                bare_ms, _ = open_loop(echo_url, timed, half)
                bad += refused_now
                for name, values in (("", ours_ms), ("echo ", bare_ms)):
                    latency[f"{name}p50"].append(percentile(values, 0.50))
                    latency[f"{name}p99"].append(percentile(values, 0.99))
            out[provider_id] = {
                "echo": echo,
                "receiver": ours,
                "ratio": statistics.median(ratios),
                "cpu us": statistics.median(rx_cpu) * 1e6,
                "echo cpu us": statistics.median(echo_cpu) * 1e6,
                **{name: statistics.median(values) for name, values in latency.items()},
                "errors": bad + failed,
                "exact": float(exact(rx, sent, refused)),
            }
            print(f"{backend} {provider_id}: {out[provider_id]}", flush=True)
    return out


def postgres_installed() -> bool:
    """The server binaries scripts/with-postgres looks for are there."""
    given = os.environ.get("PG_BIN")
    candidates = [Path(given)] if given else list(Path("/usr/lib/postgresql").glob("*/bin"))
    return any((c / "initdb").is_file() for c in candidates)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    # five runs of 3,000 deliveries (about a second each against the receiver): the machine's other load moved single
    # runs of 1,500 by a third, more than anything measured here
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="short runs, one repeat: a smoke run, not a verdict")
    args = parser.parse_args()
    pg_url = os.environ.get(PG_ENV)
    if not args.quick and not pg_url and not os.environ.get(_UNDER_PG) and postgres_installed():
        # the whole benchmark again, with a throw-away PostgreSQL cluster around it (the quick smoke run keeps SQLite:
        # a cluster's start would be most of its time)
        env = {**os.environ, _UNDER_PG: "1"}
        return subprocess.call(
            [str(ROOT / "scripts" / "with-postgres"), sys.executable, __file__, *sys.argv[1:]], env=env
        )
    repeats = 1 if args.quick else args.repeats
    n = 300 if args.quick else 3000
    duration = 1.0 if args.quick else 3.0
    providers = QUICK_PROVIDERS if args.quick else PROVIDERS
    results = {"sqlite": measure("sqlite", None, n, repeats, duration, providers)}
    if pg_url:
        results["postgresql"] = measure("postgresql", pg_url, n, repeats, duration, providers)
    rows = [
        (
            "backend",
            "provider",
            "receiver/s",
            "echo/s",
            "ratio",
            "server CPU/delivery (echo)",
            "p50 / p99 at half rate",
            "echo p50 / p99",
            "errors",
            "dedupe exact",
        )
    ]
    for backend, per in results.items():
        for provider_id, got in per.items():
            rows.append(
                (
                    backend,
                    provider_id + (" (headline)" if provider_id == HEADLINE else ""),
                    f"{got['receiver']:,.0f}",
                    f"{got['echo']:,.0f}",
                    f"{got['ratio']:.2f}x",
                    f"{got['cpu us']:.0f} us ({got['echo cpu us']:.0f} us)",
                    f"{got['p50']:.1f} / {got['p99']:.1f} ms",
                    f"{got['echo p50']:.1f} / {got['echo p99']:.1f} ms",
                    f"{got['errors']:.0f}",
                    "yes" if got["exact"] else "NO",
                )
            )
    print(
        f"reference receiver vs bare aiohttp echo server, 64 in flight, medians of {repeats} (ratio: the median of "
        "each run's ratio to the echo run just before it; server CPU: the server process's CPU time per delivery; "
        "latency: the median of each run's percentile)"
    )
    print(table(rows))
    targets = Targets(args.quick)
    for backend in ("sqlite", "postgresql"):
        got = results.get(backend)
        if got is None:
            why = (
                "the quick run measures SQLite only, and standard and sendgrid only"
                if args.quick
                else f"no {PG_ENV}, and no PostgreSQL server binaries"
            )
            print(f"{backend}: not measured ({why})")
            targets.expect(False, f"reference receiver measured on {backend}")
            continue
        for provider_id, figures in got.items():
            label = f"{backend} {provider_id}"
            targets.figure(f"receiver deliveries/s ({label})", figures["receiver"], "deliveries/s")
            targets.figure(f"receiver / bare echo ({label})", figures["ratio"], "x")
            targets.figure(f"receiver CPU per delivery ({label})", figures["cpu us"], "us", better="lower")
            targets.figure(f"echo CPU per delivery ({label})", figures["echo cpu us"], "us", better="lower")
            targets.figure(f"receiver p50 at half rate ({label})", figures["p50"], "ms", better="lower")
            targets.figure(f"receiver p99 at half rate ({label})", figures["p99"], "ms", better="lower")
            targets.figure(f"echo p99 at the same rate ({label})", figures["echo p99"], "ms", better="lower")
            targets.expect(bool(figures["exact"]) and figures["errors"] == 0, f"{label}: no errors, dedupe exact")
        for provider_id, figures in got.items():
            label = f"{backend} {provider_id}"
            targets.expect(figures["ratio"] >= SHARE, f"{label}: receiver >= {SHARE}x the bare echo server")
            targets.expect(figures["p99"] < P99_MS, f"{label}: p99 < {P99_MS:g} ms at half that rate")
    return targets.exit_code()


if __name__ == "__main__":
    sys.exit(main())
