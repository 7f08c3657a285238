"""Providers added as pure data (Zoom, Paddle, PagerDuty, Square): their signatures pass the official or an
independent verifier, and every negative variant fails it."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable

import pytest

from harness.catalog import Provider, load_catalog
from harness.core.models import Delivery
from harness.credentials import Credentials
from harness.deliveries import build_delivery
from harness.signing import SCHEMES, applicable_variants, forge_delivery, sign_delivery

Verify = Callable[[Delivery], bool]
NOTIFICATION_URL = "https://hooks.example.com/webhooks/square?shop=7"  # as registered with Square (query included)


def _paddle(secret: str) -> Verify:
    """paddle-python-sdk's Verifier, restated with the standard library (its code at 1.16.1: split the header on ';'
    into ts and h1 entries, reject a ts more than 5 s away either way, accept any h1 equal to the hex HMAC-SHA256 of
    "{ts}:{body}"). The SDK itself is not a test dependency: its wheel installs a top-level ``tests`` package that
    shadows this repository's; our signer was cross-checked against it directly when Paddle was added."""

    def verify(d: Delivery) -> bool:
        stamp, hashes = None, []
        for pair in (d.header("Paddle-Signature") or "").split(";"):
            key, _, value = pair.partition("=")
            if key == "ts":
                stamp = value
            elif key == "h1":
                hashes.append(value)
        if stamp is None or not stamp.isdigit() or abs(time.time() - int(stamp)) > 5:
            return False
        expected = hmac.new(secret.encode(), f"{stamp}:".encode() + d.body, hashlib.sha256).hexdigest()
        return any(hmac.compare_digest(expected, given) for given in hashes)

    return verify


def _zoom(secret: str) -> Verify:
    """Zoom's documented check, written independently: v0= hex HMAC-SHA256 of "v0:{ts}:{body}", 5 min window."""

    def verify(d: Delivery) -> bool:
        stamp, signature = d.header("x-zm-request-timestamp") or "", d.header("x-zm-signature") or ""
        if not stamp.isdigit() or abs(time.time() - int(stamp)) > 300:
            return False
        expected = "v0=" + hmac.new(secret.encode(), f"v0:{stamp}:".encode() + d.body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, signature)

    return verify


def _pagerduty(secret: str) -> Verify:
    """PagerDuty's documented check, written independently: any v1=<hex> of the comma-separated list matches."""

    def verify(d: Delivery) -> bool:
        expected = "v1=" + hmac.new(secret.encode(), d.body, hashlib.sha256).hexdigest()
        given = (d.header("X-PagerDuty-Signature") or "").split(",")
        return any(hmac.compare_digest(expected, item.strip()) for item in given)

    return verify


def _square(secret: str, url: str = NOTIFICATION_URL) -> Verify:
    """Square's official check: squareup's ``verify_signature`` (base64 HMAC-SHA256 of notification URL + body)."""
    from square.utils.webhooks_helper import verify_signature

    def verify(d: Delivery) -> bool:
        return verify_signature(
            request_body=d.body.decode("utf-8"),
            signature_header=d.header("x-square-hmacsha256-signature") or "",
            signature_key=secret,
            notification_url=url,
        )

    return verify


CASES: dict[str, tuple[str, Callable[[str], Verify]]] = {
    "paddle": ("pdl_ntfset_01gkpjp8bkm3tm53kdgkx6sms7_6h3qd3uFSi9YCD3OLYAShQI90XTI5vEI", _paddle),
    "zoom": ("mDz7sPbZRa6ZqBz8y0uQZw", _zoom),
    "pagerduty": ("ChEkWPmBqhkvbzbK0SAOcTmPAaRuBQIhAL6o3hr5jV6XnVHHm7gd3iMmh9E5ywb0", _pagerduty),
    "square": ("9AtJ3Pa6Rr1HhVIg1IXs3Q", _square),
}


def _deliveries(provider: Provider) -> list[Delivery]:
    return [
        build_delivery(provider, sample, event_types=[event])
        for event in provider.ordinary_events
        for sample in provider.events[event].samples
    ]


@pytest.mark.parametrize("pid", sorted(CASES))
def test_the_provider_is_pure_data(pid: str) -> None:
    provider = load_catalog().get(pid)
    (name,) = provider.auth.schemes
    assert name in provider.auth.hmac and name not in SCHEMES.names()
    assert provider.sources and provider.assumptions


@pytest.mark.parametrize("pid", sorted(CASES))
def test_signed_deliveries_pass_the_verifier_and_every_variant_fails_it(pid: str) -> None:
    provider = load_catalog().get(pid)
    secret, make = CASES[pid]
    verify, creds = make(secret), Credentials(secret=secret)
    for d in _deliveries(provider):
        assert verify(sign_delivery(provider, d, creds, url=NOTIFICATION_URL)), d.event_types
    variants = applicable_variants(provider, creds)
    expected = {"missing", "wrong-key", "malformed-header", "tampered-body"}
    assert expected | ({"stale-timestamp"} if provider.auth.tolerance else set()) == set(variants)
    for variant in variants:
        forged = forge_delivery(provider, _deliveries(provider)[0], creds, variant, url=NOTIFICATION_URL)
        assert forged is not None and not verify(forged), variant


def test_paddle_rotation_header_with_two_h1_values_is_accepted() -> None:
    provider = load_catalog().get("paddle")
    secret, make = CASES["paddle"]
    signed = sign_delivery(provider, _deliveries(provider)[0], Credentials(secret=secret))
    header = signed.header("Paddle-Signature") or ""
    rotated = signed.with_headers({"Paddle-Signature": header + ";h1=" + "0" * 64})
    assert make(secret)(rotated)


def test_square_signatures_are_bound_to_the_notification_url() -> None:
    """Signed for one URL, squareup refuses it for another: a different path, query, scheme or host."""
    provider = load_catalog().get("square")
    secret = CASES["square"][0]
    signed = sign_delivery(provider, _deliveries(provider)[0], Credentials(secret=secret), url=NOTIFICATION_URL)
    assert _square(secret)(signed)
    for other in (
        "https://hooks.example.com/webhooks/square",
        "https://hooks.example.com/webhooks/square?shop=8",
        "http://hooks.example.com/webhooks/square?shop=7",
        "https://hooks.example.org/webhooks/square?shop=7",
    ):
        assert not _square(secret, other)(signed), other
    assert not _square("another-signature-key")(signed)
    # user-info in the target is not part of what Square signs
    with_userinfo = NOTIFICATION_URL.replace("https://", "https://user:pw@")
    assert _square(secret)(sign_delivery(provider, signed, Credentials(secret=secret), url=with_userinfo))
