"""Signing throughput per scheme against its raw primitive, measured in one run (target: each >= 50%).

.venv/bin/python benchmarks/bench_signing.py [--n 20000] [--repeats 3] [--quick]
"""

from __future__ import annotations

import argparse
import base64
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
from _common import table
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
}


def primitive(pid: str, creds: Credentials, body: bytes, key: ec.EllipticCurvePrivateKey) -> Callable[[], object]:
    """The scheme's cryptographic core and nothing else: one HMAC-SHA256 (or ECDSA) over exactly what it signs,
    encoded as the header wants it (hex or base64). What a hand-written signer would minimally do."""
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
    return lambda: hmac.new(secret, body, hashlib.sha256).hexdigest()


def rate(fn: object, n: int) -> float:
    started = time.perf_counter()
    for _ in range(n):
        fn()  # type: ignore[operator]
    return n / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    n, repeats = (3000, 1) if args.quick else (args.n, args.repeats)
    catalog = load_catalog()
    pem, _ = generate_keypair()
    with tempfile.NamedTemporaryFile("wb", suffix=".pem", delete=False) as handle:
        handle.write(pem)
    cases = dict(CASES, sendgrid=Credentials(signing_key=handle.name))
    key = load_private_key(handle.name)
    rows = [("scheme", "ours/s", "raw primitive/s", "ratio")]
    summary = {}
    for pid, creds in cases.items():
        provider = catalog.get(pid)
        delivery = next(VolumeGenerator(provider, seed=1).deliveries(1))
        body = delivery.body
        raw = primitive(pid, creds, body, key)
        ours_rates, raw_rates = [], []
        for _ in range(repeats):
            raw_rates.append(rate(raw, n))
            ours_rates.append(rate(lambda p=provider, d=delivery, c=creds: sign_delivery(p, d, c), n))
        ours, base = statistics.median(ours_rates), statistics.median(raw_rates)
        rows.append((pid, f"{ours:,.0f}", f"{base:,.0f}", f"{ours / base:.2f}"))
        summary[pid] = round(ours / base, 3)
    Path(handle.name).unlink()
    print(
        f"sign_delivery per scheme vs the bare HMAC-SHA256 / ECDSA P-256 call, body of one event, medians of {repeats}"
    )
    print(table(rows))
    print(f"lowest ratio: {min(summary.values()):.2f} (target >= 0.50)")
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
