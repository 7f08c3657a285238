"""Signing throughput per scheme against its raw primitive, measured in one run (target: each >= 50%).

.venv/bin/python benchmarks/bench_signing.py [--n 4000] [--rounds 15] [--quick]

"raw" is the bare call a hand-written signer makes (``hmac.new(key, msg, sha256)`` or ``key.sign``), the baseline the
target is set against. "keyed raw" keys an ``hmac`` object once and ``.copy()``s it per message, as our declarative
HMAC schemes do; the gap to it is the harness's own per-delivery overhead (reading the description, the headers, the
copy of the Delivery). Rates are per CPU second, in alternating chunks, so a busy machine skews both sides alike.
"""

from __future__ import annotations

import argparse
import base64
import functools
import hashlib
import hmac
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Targets, table
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from harness.catalog import load_catalog
from harness.credentials import Credentials
from harness.signing import sign_delivery
from harness.signing.keys import generate_keypair, load_private_key
from harness.volume import VolumeGenerator

CASES = {
    "github": Credentials(secret="It's a Secret to Everybody"),
    "jira": Credentials(secret="It's a Secret to Everybody"),
    "teams": Credentials(secret=base64.b64encode(b"k" * 32).decode()),
    "stripe": Credentials(secret="whsec_test"),
    "slack": Credentials(secret="8f742231b10e8888abcd99yyyzzz85a5"),
    "shopify": Credentials(secret="shpss_secret"),
    "standard": Credentials(secret="whsec_" + base64.b64encode(b"s" * 32).decode()),
    "square": Credentials(secret="sq-signature-key"),
}
URL = "https://hooks.example.com/webhooks/square"  # Square signs the notification URL before the body


def primitive(pid: str, creds: Credentials, body: bytes, key: ec.EllipticCurvePrivateKey) -> Callable[[], object]:
    """The scheme's cryptographic core and nothing else: each HMAC (or the ECDSA signature) the provider sends, over
    exactly what it signs, encoded as the header wants it (hex or base64). What a hand-written signer minimally does."""
    secret = (creds.secret or "").encode()
    if pid == "sendgrid":
        return lambda: base64.b64encode(key.sign(b"1700000000" + body, ec.ECDSA(hashes.SHA256())))
    if pid == "teams":
        raw_key = base64.b64decode(secret)
        return lambda: base64.b64encode(hmac.new(raw_key, body, hashlib.sha256).digest())
    if pid == "stripe":
        return lambda: hmac.new(secret, b"1700000000." + body, hashlib.sha256).hexdigest()
    if pid == "slack":
        return lambda: hmac.new(secret, b"v0:1700000000:" + body, hashlib.sha256).hexdigest()
    if pid == "standard":
        raw_key = base64.b64decode(secret.removeprefix(b"whsec_"))
        return lambda: base64.b64encode(hmac.new(raw_key, b"msg_1.1700000000." + body, hashlib.sha256).digest())
    if pid == "shopify":
        return lambda: base64.b64encode(hmac.new(secret, body, hashlib.sha256).digest())
    if pid == "square":
        return lambda: base64.b64encode(hmac.new(secret, URL.encode() + body, hashlib.sha256).digest())
    if pid == "github":  # GitHub sends two signatures when a secret is set: X-Hub-Signature-256 and the legacy SHA-1
        return lambda: (
            hmac.new(secret, body, hashlib.sha256).hexdigest(),
            hmac.new(secret, body, hashlib.sha1).hexdigest(),
        )
    return lambda: hmac.new(secret, body, hashlib.sha256).hexdigest()


def keyed_primitive(pid: str, creds: Credentials, body: bytes) -> Callable[[], object] | None:
    """The same MAC from an ``hmac`` object keyed once and copied per message, as our HMAC schemes compute it: the
    fastest bare form, so the gap to it is the harness's own per-delivery overhead."""
    if pid == "sendgrid":
        return None
    secret = (creds.secret or "").encode()
    key = base64.b64decode(secret) if pid == "teams" else secret
    if pid == "standard":
        key = base64.b64decode(secret.removeprefix(b"whsec_"))
    prefixes = {"stripe": b"1700000000.", "slack": b"v0:1700000000:", "standard": b"msg_1.1700000000."}
    prefix = prefixes.get(pid, URL.encode() if pid == "square" else b"")
    keyed = hmac.new(key, digestmod=hashlib.sha256)
    legacy = hmac.new(key, digestmod=hashlib.sha1) if pid == "github" else None  # GitHub's second signature

    def mac() -> object:
        inner = keyed.copy()
        inner.update(prefix)
        inner.update(body)
        if legacy is not None:
            second = legacy.copy()
            second.update(body)
            second.digest()
        return inner.digest()

    assert mac() == hmac.new(key, prefix + body, hashlib.sha256).digest()
    return mac


def rate(fn: Callable[[], object], n: int) -> float:
    """Calls per CPU second over ``n`` calls (CPU time: other processes on a busy machine do not count)."""
    started = time.process_time()
    for _ in range(n):
        fn()
    return n / max(time.process_time() - started, 1e-9)


def paired(fns: list[Callable[[], object]], n: int, rounds: int) -> list[list[float]]:
    """Rates of each function, measured in alternating chunks so that load from other processes hits all alike."""
    rates: list[list[float]] = [[] for _ in fns]
    for _ in range(rounds):
        for i, fn in enumerate(fns):
            rates[i].append(rate(fn, n))
    return rates


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=4000, help="calls per chunk")
    parser.add_argument("--rounds", type=int, default=15, help="alternating chunks per measurement")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    n, rounds = (200, 2) if args.quick else (args.n, args.rounds)
    catalog = load_catalog()
    pem, _ = generate_keypair()
    with tempfile.NamedTemporaryFile("wb", suffix=".pem", delete=False) as handle:
        handle.write(pem)
    cases = dict(CASES, sendgrid=Credentials(signing_key=handle.name))
    key = load_private_key(handle.name)
    rows: list[tuple[str, ...]] = [
        ("scheme", "body B", "ours/s", "raw/s", "ratio", "keyed raw/s", "vs keyed", "harness µs")
    ]
    summary = {}
    for pid, creds in cases.items():
        provider = catalog.get(pid)
        delivery = next(VolumeGenerator(provider, seed=1).deliveries(1))
        body = delivery.body
        fns: list[Callable[[], object]] = [
            primitive(pid, creds, body, key),
            functools.partial(sign_delivery, provider, delivery, creds, url=URL if pid == "square" else None),
        ]
        keyed = keyed_primitive(pid, creds, body)
        if keyed is not None:
            fns.append(keyed)
        rates = paired(fns, n if pid != "sendgrid" else max(200, n // 10), rounds)
        ratios = [ours / raw for raw, ours in zip(rates[0], rates[1], strict=True)]
        raw, ours, ratio = statistics.median(rates[0]), statistics.median(rates[1]), statistics.median(ratios)
        keyed_cells, best = ("-", "-"), raw
        if keyed is not None:
            best = statistics.median(rates[2])
            vs = statistics.median([o / k for o, k in zip(rates[1], rates[2], strict=True)])
            keyed_cells = (f"{best:,.0f}", f"{vs:.2f}")
        harness_us = (1 / ours - 1 / best) * 1e6  # ours minus the fastest bare form of the same signature
        rows.append(
            (pid, str(len(body)), f"{ours:,.0f}", f"{raw:,.0f}", f"{ratio:.2f}", *keyed_cells, f"{harness_us:.2f}")
        )
        summary[pid] = round(ratio, 3)
    Path(handle.name).unlink()
    print(
        "sign_delivery per scheme vs the bare HMAC-SHA256 / ECDSA P-256 call over the same bytes, one event's body;"
        f" medians of {rounds} alternating chunks (ratio = median of paired ratios)"
    )
    print(table(rows))
    print(f"lowest ratio: {min(summary.values()):.2f} (target >= 0.50)")
    print(json.dumps(summary))
    targets = Targets(args.quick)
    for pid, ratio in summary.items():
        targets.figure(f"{pid} / primitive", ratio, "x")
    for pid, ratio in summary.items():
        targets.expect(ratio >= 0.5, f"{pid} >= 0.50 of its primitive")
    return targets.exit_code()


if __name__ == "__main__":
    sys.exit(main())
