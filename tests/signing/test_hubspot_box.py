"""HubSpot v3 and Box as pure data: signatures pass the vendors' own helpers (hubspot-api-client's
``Signature.is_valid``, box-sdk-gen's ``WebhooksManager.validate_message``) and every negative variant fails them."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from harness.catalog import Provider, load_catalog
from harness.core.models import Delivery
from harness.credentials import Credentials
from harness.deliveries import build_delivery
from harness.signing import applicable_variants, forge_delivery, scheme_for, sign_delivery, verifiers

Verify = Callable[[Delivery], bool]
URL = "https://hooks.example.com/webhooks/hubspot?portal=33"
SECRET = "b7e1c5a2-0d3f-4c9e-9a51-3f2e8d7c6b10"  # a client secret's shape (a UUID)


def _hubspot(secret: str, url: str = URL) -> Verify:
    """hubspot-api-client's v3 check (5 min window, method + URI + body + timestamp)."""
    from hubspot.exceptions import InvalidSignatureTimestampError
    from hubspot.utils.signature import Signature

    def verify(d: Delivery) -> bool:
        try:
            return Signature.is_valid(
                signature=d.header("X-HubSpot-Signature-v3") or "",
                client_secret=secret,
                request_body=d.body.decode("utf-8"),
                http_uri=url,
                http_method=d.method,
                signature_version="v3",
                timestamp=d.header("X-HubSpot-Request-Timestamp"),
            )
        except InvalidSignatureTimestampError:
            return False

    return verify


def _box(primary: str, secondary: str | None = None) -> Verify:
    """box-sdk-gen's check: either key's signature over body + box-delivery-timestamp, at most 10 min old."""
    from box_sdk_gen.managers.webhooks import WebhooksManager

    def verify(d: Delivery) -> bool:
        headers = {k.lower(): v for k, v in d.headers.items()}  # as a framework hands them over, normalised
        try:
            return WebhooksManager.validate_message(d.body.decode("utf-8"), headers, primary, secondary_key=secondary)
        except (ValueError, TypeError, AttributeError):  # a timestamp it cannot parse
            return False

    return verify


def _deliveries(provider: Provider) -> list[Delivery]:
    batch = provider.body.shape == "batch"
    return [
        build_delivery(provider, [sample] if batch else sample, event_types=[event])
        for event in provider.ordinary_events
        for sample in provider.events[event].samples
    ]


CASES: dict[str, Callable[[str], Verify]] = {"hubspot": _hubspot, "box": _box}


@pytest.mark.parametrize("pid", sorted(CASES))
def test_signed_deliveries_pass_the_vendor_helper_and_every_variant_fails_it(pid: str) -> None:
    provider = load_catalog().get(pid)
    verify, creds = CASES[pid](SECRET), Credentials(secret=SECRET)
    (name,) = provider.auth.schemes
    assert name in provider.auth.hmac and provider.sources and provider.assumptions
    for d in _deliveries(provider):
        assert verify(sign_delivery(provider, d, creds, url=URL)), d.event_types
    variants = applicable_variants(provider, creds)
    assert set(variants) == {"missing", "wrong-key", "malformed-header", "tampered-body", "stale-timestamp"}
    for variant in variants:
        forged = forge_delivery(provider, _deliveries(provider)[0], creds, variant, url=URL)
        assert forged is not None and not verify(forged), variant


def test_hubspot_signs_the_method_and_the_full_uri() -> None:
    provider = load_catalog().get("hubspot")
    signed = sign_delivery(provider, _deliveries(provider)[0], Credentials(secret=SECRET), url=URL)
    assert _hubspot(SECRET)(signed)
    assert not _hubspot(SECRET, URL.replace("portal=33", "portal=34"))(signed)
    assert not _hubspot(SECRET)(signed.replace(method="PUT"))
    stamp = int(signed.header("X-HubSpot-Request-Timestamp") or "0")
    assert abs(stamp / 1000 - time.time()) < 60  # milliseconds


def test_box_accepts_either_key_during_a_rotation_and_our_verifier_agrees() -> None:
    """One header signed with a key the receiver does not hold, the other with its key: box-sdk-gen accepts with
    both keys configured, and so does the registered verifier; a primary-only check refuses one order."""
    provider = load_catalog().get("box")
    creds = Credentials(secret=SECRET)
    scheme = scheme_for(provider, "box")
    (ours,) = verifiers(provider, creds, lambda token: False)
    for extra_first in (True, False):
        d = _deliveries(provider)[0]
        rotated = scheme.sign_rotated(
            provider, d, creds, time.time(), extra_keys=["a-new-key"], extra_first=extra_first
        )
        assert _box(SECRET, SECRET)(rotated) and ours.reason(rotated.headers, rotated.body) is None
        primary_only = _box(SECRET)(rotated)
        assert primary_only is (not extra_first)
    assert ours.reason({}, b"{}") == "missing box-signature-primary"


def test_box_timestamps_are_rfc3339_and_malformed_ones_are_refused() -> None:
    provider = load_catalog().get("box")
    creds = Credentials(secret=SECRET)
    signed = sign_delivery(provider, _deliveries(provider)[0], creds)
    stamp = signed.header("box-delivery-timestamp") or ""
    assert stamp.endswith("Z") and "T" in stamp
    (ours,) = verifiers(provider, creds, lambda token: False)
    assert abs((ours.timestamp(signed.headers) or 0) - time.time()) < 5
    for bad in ("yesterday", "", "9" * 40, stamp + ".5", "2026-01-01T00:00:00"):
        assert ours.reason(signed.with_headers({"box-delivery-timestamp": bad}).headers, signed.body) is not None, bad
