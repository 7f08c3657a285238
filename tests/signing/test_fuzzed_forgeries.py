"""Forgeries a fuzzer would try, for every scheme, and companion signatures (GitHub's SHA-1) forged together."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import pytest

from harness.catalog import Provider, load_catalog
from harness.core.models import Delivery
from harness.credentials import Credentials
from harness.deliveries import build_delivery
from harness.signing import (
    forge_delivery,
    fresh_credentials,
    fuzz_deliveries,
    serving_certificates,
    sign_delivery,
    verifiers,
)

NOW = 1_700_000_000.0
CATALOG = load_catalog()
NO_TOKEN_FETCH = [p.id for p in CATALOG if "oauth2-client-credentials" not in p.auth.schemes]
OWN_FUZZ = {  # schemes whose credentials are not a signature header fuzz their own way
    "gcp-pubsub": {
        "two segments",
        "header not JSON",
        "alg HS256 (key confusion)",
        "empty Authorization",
        "8 KiB token",
    },
    "mailgun": {"signature not hex", "token missing", "signature object a list", "non-numeric timestamp"},
}
# The variants every header signature has (the OIDC claim forgeries and Mailgun's replay are not GitHub's)
HEADER_VARIANTS = ("missing", "wrong-key", "tampered-body", "malformed-header")


def _delivery(provider: Provider) -> Delivery:
    event = sorted(provider.ordinary_events)[0]
    sample = provider.events[event].samples[0]
    return build_delivery(
        provider, [sample] if provider.body.shape == "batch" else sample, event_types=[event], now=NOW
    )


@pytest.mark.parametrize("pid", NO_TOKEN_FETCH)
def test_every_fuzzed_forgery_fails_the_schemes_own_verifier(pid: str, tmp_path: Path) -> None:
    provider = CATALOG.get(pid)
    made = fresh_credentials(provider, tmp_path, "http://127.0.0.1:9/token")
    with serving_certificates(made) as creds:  # SNS's certificate URLs point at a server of this test's own
        _every_fuzzed_forgery_fails(provider, creds)


def _every_fuzzed_forgery_fails(provider: Provider, creds: Credentials) -> None:
    url = "https://hooks.example.test/in?x=1"
    forged = fuzz_deliveries(provider, _delivery(provider), creds, now=NOW, url=url)
    labels = [d.label for d in forged]
    assert len(labels) == len(set(labels)) >= 7
    expected = {"unknown version prefix", "extra commas and spaces", "non-ASCII characters", "signature duplicated"}
    expected |= {"empty signature header", "8 KiB signature header"}
    expected = OWN_FUZZ.get(provider.id, expected)
    assert expected <= {label.rpartition(": ")[2] for label in labels}
    checks = verifiers(provider, creds, lambda token: False)
    for delivery in forged:
        assert delivery.label.startswith("fuzzed ")
        reasons = [c.reason(dict(delivery.headers), delivery.body, url) for c in checks]
        assert any(reasons), delivery.label  # no fuzzed forgery carries a valid signature


@pytest.mark.parametrize("pid", ["slack", "stripe", "standard", "sendgrid"])
def test_timestamped_schemes_get_malformed_timestamps(pid: str, tmp_path: Path) -> None:
    provider = CATALOG.get(pid)
    creds = fresh_credentials(provider, tmp_path, "http://127.0.0.1:9/token")
    creds = Credentials(secret=creds.secret, signing_key=creds.signing_key)  # no OAuth: no token fetch
    forged = {d.label.rpartition(": ")[2]: d for d in fuzz_deliveries(provider, _delivery(provider), creds, now=NOW)}
    for kind in ("non-numeric", "empty", "negative", "huge", "float"):
        assert f"{kind} timestamp" in forged, kind
    if pid == "stripe":
        assert forged["non-numeric timestamp"].header("Stripe-Signature").startswith("t=yesterday,v1=")
        assert forged["unknown version prefix"].header("Stripe-Signature").count("v999=") == 1
    if pid == "slack":
        assert forged["float timestamp"].header("X-Slack-Request-Timestamp") == f"{int(NOW)}.5"


def test_github_sends_the_legacy_sha1_signature_beside_sha256() -> None:
    provider = CATALOG.get("github")
    creds = Credentials(secret="It's a Secret to Everybody")
    delivery = _delivery(provider)
    signed = sign_delivery(provider, delivery, creds, now=NOW)
    key = b"It's a Secret to Everybody"
    assert signed.header("X-Hub-Signature") == "sha1=" + hmac.new(key, delivery.body, hashlib.sha1).hexdigest()
    assert signed.header("X-Hub-Signature-256") == "sha256=" + hmac.new(key, delivery.body, hashlib.sha256).hexdigest()
    (legacy,) = verifiers(provider, creds, lambda token: False, legacy=True)
    assert legacy.check(dict(signed.headers), signed.body) is None


@pytest.mark.parametrize("variant", HEADER_VARIANTS)
def test_a_github_forgery_forges_both_signatures(variant: str) -> None:
    """A receiver that checks only the SHA-1 header must see a forgery too: no valid second signature rides along."""
    provider = CATALOG.get("github")
    creds = Credentials(secret="It's a Secret to Everybody")
    delivery = _delivery(provider)
    forged = forge_delivery(provider, delivery, creds, variant, now=NOW)
    assert forged is not None
    for legacy in (False, True):
        (check,) = verifiers(provider, creds, lambda token: False, legacy=legacy)
        assert check.check(dict(forged.headers), forged.body), (variant, legacy)
    for fuzzed in fuzz_deliveries(provider, delivery, creds, now=NOW):
        (check,) = verifiers(provider, creds, lambda token: False, legacy=True)
        assert check.check(dict(fuzzed.headers), fuzzed.body), fuzzed.label


def test_a_form_encoded_github_delivery_is_signed_over_the_form_bytes() -> None:
    provider = CATALOG.get("github").encoded_as("form")
    creds = Credentials(secret="It's a Secret to Everybody")
    payload = {"zen": "Keep it logically awesome & simple = fine", "hook_id": 1}
    delivery = build_delivery(provider, payload, event_types=["ping"], now=NOW)
    assert delivery.header("Content-Type") == "application/x-www-form-urlencoded"
    from urllib.parse import parse_qs

    assert json.loads(parse_qs(delivery.body.decode())["payload"][0]) == payload
    signed = sign_delivery(provider, delivery, creds, now=NOW)
    mac = hmac.new(b"It's a Secret to Everybody", delivery.body, hashlib.sha256).hexdigest()
    assert signed.header("X-Hub-Signature-256") == f"sha256={mac}"


def test_an_unknown_encoding_is_a_one_line_usage_error() -> None:
    from harness.errors import UsageError

    with pytest.raises(UsageError, match=r"github has no delivery encoding 'xml'.*Known: json, form"):
        CATALOG.get("github").encoded_as("xml")
    with pytest.raises(UsageError, match="stripe has no delivery encoding 'form'"):
        CATALOG.get("stripe").encoded_as("form")
    assert CATALOG.get("stripe").encoded_as("json") is CATALOG.get("stripe")
