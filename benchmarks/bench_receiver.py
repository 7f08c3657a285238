"""The reference receiver against a bare aiohttp echo server, both in processes of their own (medians).

1. Deliveries per second a bare aiohttp client loop (64 in flight, the loop of bench_load and bench_simulate) gets
   from ``webhook-harness receiver PROVIDER`` against what it gets from a bare aiohttp echo server, measured in
   turn in the same run, each repeat with fresh idempotency keys (every delivery is a new row). On SQLite (the
   default temp file) and on PostgreSQL (a throw-away cluster from scripts/with-postgres). Target: at least 0.5x,
   on the headline provider ``standard`` (Standard Webhooks, HMAC-SHA256); ``github`` (HMAC over large bodies)
   and ``sendgrid`` (ECDSA P-256, batched events) are reported beside it.
2. p99 latency of ``load`` (open model) against the receiver at half the rate it reached in (1). Target: < 20 ms.
3. Dedupe stays exact: every delivery is resent at once, concurrently, and a sample of keys is probed (count 1).

    .venv/bin/python benchmarks/bench_receiver.py [--repeats 3] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
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
from _common import Targets, table
from bench_simulate import echo_server

from harness.catalog import load_catalog
from harness.core.models import Delivery
from harness.credentials import Credentials

ROOT = Path(__file__).resolve().parents[1]
HEADLINE = "standard"
PROVIDERS = (HEADLINE, "github", "sendgrid")
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


@contextmanager
def receiver(provider: str, db: str | None) -> Iterator[Receiver]:
    """``webhook-harness receiver PROVIDER`` in its own process, as a user runs it; stopped by its pid (SIGTERM)."""
    command = [sys.executable, "-m", "harness", "receiver", provider, "--port", "0"] + (["--db", db] if db else [])
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEBHOOK_HARNESS_")}
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env, cwd=ROOT)
    try:
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
        yield Receiver(url, probe, creds)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def deliveries(provider_id: str, creds: Credentials, n: int, seed: int) -> list[Delivery]:
    """``n`` signed deliveries with keys no other seed gives (signed now: timestamps and tokens are fresh)."""
    from harness.load.source import DeliverySource

    provider = load_catalog().get(provider_id)
    source = DeliverySource(provider, creds, [1] * n, seed=seed)
    source.plan(list(range(n)), n)
    return [source.signed(unit) for unit in range(n)]


def bare_rate(url: str, sent: Sequence[Delivery], concurrency: int = 64) -> tuple[float, int]:
    """(deliveries/s, answers other than 2xx) of the bare aiohttp client loop: semaphore, gather, read."""
    import aiohttp

    async def run() -> tuple[float, int]:
        gate = asyncio.Semaphore(concurrency)
        failed = 0
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:

            async def post(d: Delivery) -> None:
                nonlocal failed
                async with gate, session.post(url, data=d.body, headers=dict(d.headers)) as response:
                    await response.read()
                    failed += not 200 <= response.status < 300

            started = time.perf_counter()
            await asyncio.gather(*(post(d) for d in sent))
            return len(sent) / (time.perf_counter() - started), failed

    return asyncio.run(run())


def p99_at(provider_id: str, url: str, creds: Credentials, rate: float, duration: float) -> tuple[float, int, int]:
    """(p99 ms, errors, dropped) of ``load`` at ``rate`` deliveries/s against the receiver."""
    from harness.load import LoadConfig, open_schedule, play

    provider = load_catalog().get(provider_id)
    schedule = open_schedule(provider, rate=rate, duration=duration, seed=int(time.time()))
    run = play(LoadConfig(provider, url, schedule, creds, seed=int(time.time())))
    stats = run.stats
    return stats.latency_ms()["p99"], stats.answered - stats.succeeded, stats.dropped


def exact(rx: Receiver, sent: list[Delivery]) -> bool:
    """Every delivery resent at once, concurrently; then a sample of keys probed: each stored exactly once."""
    import aiohttp

    _, failed = bare_rate(rx.url, sent)
    keys = [key for d in sent[:: max(1, len(sent) // 50)] for key in d.idempotency_keys]

    async def counts() -> list[int]:
        async with aiohttp.ClientSession() as session:
            out = []
            for key in keys:
                async with session.get(rx.probe.replace("{event_id}", key)) as response:
                    out.append(int((await response.json())["count"]))
            return out

    return failed == 0 and all(c == 1 for c in asyncio.run(counts()))


def measure(backend: str, db: str | None, n: int, repeats: int, duration: float) -> dict[str, dict[str, float]]:
    """Per provider: echo and receiver deliveries/s (medians), their ratio, p99 at half rate, dedupe exact."""
    out: dict[str, dict[str, float]] = {}
    seed = int(time.time())
    with echo_server() as echo_url:
        for provider_id in PROVIDERS:
            with receiver(provider_id, db) as rx:
                warm = deliveries(provider_id, rx.credentials, 200, seed)
                bare_rate(echo_url, warm)
                bare_rate(rx.url, warm)
                echo_rates, rx_rates, failed = [], [], 0
                sent: list[Delivery] = []
                for r in range(repeats):
                    batch = deliveries(provider_id, rx.credentials, n, seed + 1 + r)
                    echo_rates.append(bare_rate(echo_url, batch)[0])
                    rate, bad = bare_rate(rx.url, batch)
                    rx_rates.append(rate)
                    failed += bad
                    sent = batch
                echo, ours = statistics.median(echo_rates), statistics.median(rx_rates)
                p99, errors, dropped = p99_at(provider_id, rx.url, rx.credentials, ours / 2, duration)
                out[provider_id] = {
                    "echo": echo,
                    "receiver": ours,
                    "ratio": ours / echo,
                    "p99": p99,
                    "errors": errors + failed,
                    "dropped": dropped,
                    "exact": float(exact(rx, sent)),
                }
            seed += 100
            print(f"{backend} {provider_id}: {out[provider_id]}", flush=True)
    return out


def postgres_installed() -> bool:
    """The server binaries scripts/with-postgres looks for are there."""
    given = os.environ.get("PG_BIN")
    candidates = [Path(given)] if given else list(Path("/usr/lib/postgresql").glob("*/bin"))
    return any((c / "initdb").is_file() for c in candidates)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
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
    n = 100 if args.quick else 3000
    duration = 0.5 if args.quick else 10.0
    results = {"sqlite": measure("sqlite", None, n, repeats, duration)}
    if pg_url:
        results["postgresql"] = measure("postgresql", pg_url, n, repeats, duration)
    rows = [("backend", "provider", "receiver/s", "echo/s", "ratio", "p99 at half rate", "errors", "dedupe exact")]
    for backend, per in results.items():
        for provider_id, got in per.items():
            rows.append(
                (
                    backend,
                    provider_id + (" (headline)" if provider_id == HEADLINE else ""),
                    f"{got['receiver']:,.0f}",
                    f"{got['echo']:,.0f}",
                    f"{got['ratio']:.2f}x",
                    f"{got['p99']:.1f} ms",
                    f"{got['errors']:.0f}",
                    "yes" if got["exact"] else "NO",
                )
            )
    print(f"reference receiver vs bare aiohttp echo server, 64 in flight, medians of {repeats}")
    print(table(rows))
    targets = Targets(args.quick)
    for backend in ("sqlite", "postgresql"):
        got = results.get(backend)
        if got is None:
            why = (
                "the quick run measures SQLite only"
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
            targets.figure(f"receiver p99 at half rate ({label})", figures["p99"], "ms", better="lower")
            targets.expect(bool(figures["exact"]) and figures["errors"] == 0, f"{label}: no errors, dedupe exact")
        head = got[HEADLINE]
        targets.expect(head["ratio"] >= SHARE, f"{backend} {HEADLINE}: receiver >= {SHARE}x the bare echo server")
        targets.expect(head["p99"] < P99_MS, f"{backend} {HEADLINE}: p99 < {P99_MS:g} ms at half that rate")
    return targets.exit_code()


if __name__ == "__main__":
    sys.exit(main())
