"""Our signatures pass each provider's official verifier, and every negative variant fails it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.catalog import Provider, load_catalog
from harness.core.models import Delivery
from harness.credentials import Credentials
from harness.deliveries import build_delivery
from harness.signing import applicable_variants, forge_delivery, scheme_for, sign_delivery
from harness.signing.keys import generate_keypair

NOW = time.time()
Verifier = Callable[[Delivery], bool]


def _delivery(provider: Provider) -> Delivery:
    event = provider.ordinary_events[0]
    sample = provider.events[event].samples[0]
    payload = [sample] if provider.body.shape == "batch" else sample
    return build_delivery(provider, payload, event_types=[event], now=NOW)


def _headers(delivery: Delivery) -> dict[str, str]:
    return dict(delivery.headers)


@pytest.fixture(scope="module")
def catalog():  # type: ignore[no-untyped-def]
    return load_catalog()


@pytest.fixture(scope="module")
def sendgrid_key(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    pem, public = generate_keypair()
    path = tmp_path_factory.mktemp("keys") / "sg.pem"
    path.write_bytes(pem)
    return str(path), public


def _sendgrid_verifier(public: str) -> Verifier:
    from sendgrid.helpers.eventwebhook import EventWebhook
    from sendgrid.helpers.eventwebhook.eventwebhook_header import EventWebhookHeader

    hook = EventWebhook(public)

    def verify(d: Delivery) -> bool:
        sig, ts = d.header(EventWebhookHeader.SIGNATURE), d.header(EventWebhookHeader.TIMESTAMP)
        if not sig or not ts:
            return False
        try:
            return bool(hook.verify_signature(d.body.decode(), sig, ts))
        except Exception:
            return False

    return verify


def _stripe_verifier(secret: str) -> Verifier:
    import stripe

    def verify(d: Delivery) -> bool:
        try:
            stripe.Webhook.construct_event(d.body.decode(), d.header("Stripe-Signature") or "", secret, tolerance=300)
        except (stripe.SignatureVerificationError, ValueError):
            return False
        return True

    return verify


def _slack_verifier(secret: str) -> Verifier:
    from slack_sdk.signature import SignatureVerifier

    verifier = SignatureVerifier(secret)
    return lambda d: bool(verifier.is_valid_request(d.body, _headers(d)))


def _whsec_verifier(secret: str, library: str) -> Verifier:
    """standardwebhooks' or svix's ``Webhook(secret).verify(body, headers)``; any exception means rejected."""
    if library == "svix":
        from svix.webhooks import Webhook as SvixWebhook

        hook: object = SvixWebhook(secret)
    else:
        from standardwebhooks.webhooks import Webhook as StandardWebhook

        hook = StandardWebhook(secret)

    def verify(d: Delivery) -> bool:
        try:
            hook.verify(d.body, {k.lower(): v for k, v in d.headers.items()})  # type: ignore[attr-defined]
        except Exception:
            return False
        return True

    return verify


def _githubkit_verifier(secret: str, header: str) -> Verifier:
    from githubkit.webhooks import verify as gh_verify

    def verify(d: Delivery) -> bool:
        value = d.header(header)
        if not value:
            return False
        try:
            return bool(gh_verify(secret, d.body, value))
        except Exception:
            return False

    return verify


def _stdlib_b64_hmac(key: bytes, header: str, prefix: str = "") -> Verifier:
    """The documented algorithm, written independently: base64 HMAC-SHA256 of the raw body."""

    def verify(d: Delivery) -> bool:
        value = d.header(header) or ""
        if not value.startswith(prefix):
            return False
        expected = base64.b64encode(hmac.new(key, d.body, hashlib.sha256).digest()).decode()
        return hmac.compare_digest(value[len(prefix) :], expected)

    return verify


# Svix's header names for the same Standard Webhooks scheme: a description change, no code.
SVIX_HEADERS = {"header": "svix-signature", "timestamp": {"header": "svix-timestamp"}, "id": {"header": "svix-id"}}
CASES = ["sendgrid", "stripe", "slack", "standard", "standard-svix", "github", "jira", "teams", "shopify"]


def _setup(name: str, catalog, sendgrid_key) -> tuple[Provider, Credentials, Verifier]:  # type: ignore[no-untyped-def]
    whsec = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()
    if name == "sendgrid":
        path, public = sendgrid_key
        return catalog.get("sendgrid"), Credentials(signing_key=path), _sendgrid_verifier(public)
    if name == "stripe":
        return catalog.get("stripe"), Credentials(secret="whsec_test_secret"), _stripe_verifier("whsec_test_secret")
    if name == "slack":
        return (
            catalog.get("slack"),
            Credentials(secret="8f742231b10e8888abcd99yyyzzz85a5"),
            _slack_verifier("8f742231b10e8888abcd99yyyzzz85a5"),
        )
    if name == "standard":
        return catalog.get("standard"), Credentials(secret=whsec), _whsec_verifier(whsec, "standardwebhooks")
    if name == "standard-svix":
        provider = load_catalog(overrides={"standard": {"auth": {"hmac": {"standard": SVIX_HEADERS}}}})
        return provider.get("standard"), Credentials(secret=whsec), _whsec_verifier(whsec, "svix")
    if name in ("github", "jira"):
        header = "X-Hub-Signature-256" if name == "github" else "X-Hub-Signature"
        return (
            catalog.get(name),
            Credentials(secret="It's a Secret to Everybody"),
            _githubkit_verifier("It's a Secret to Everybody", header),
        )
    if name == "teams":
        token = base64.b64encode(b"teams-security-token-32-bytes!!!").decode()
        return (
            catalog.get("teams"),
            Credentials(secret=token),
            _stdlib_b64_hmac(base64.b64decode(token), "Authorization", "HMAC "),
        )
    assert name == "shopify"
    return (
        catalog.get("shopify"),
        Credentials(secret="shpss_client_secret"),
        _stdlib_b64_hmac(b"shpss_client_secret", "X-Shopify-Hmac-Sha256"),
    )


@pytest.mark.parametrize("name", CASES)
def test_signed_delivery_is_accepted_by_the_official_verifier(name: str, catalog, sendgrid_key) -> None:  # type: ignore[no-untyped-def]
    provider, creds, verify = _setup(name, catalog, sendgrid_key)
    signed = sign_delivery(provider, _delivery(provider), creds)
    assert verify(signed)


@pytest.mark.parametrize("name", CASES)
def test_every_negative_variant_is_rejected_by_the_official_verifier(name: str, catalog, sendgrid_key) -> None:  # type: ignore[no-untyped-def]
    provider, creds, verify = _setup(name, catalog, sendgrid_key)
    variants = applicable_variants(provider, creds)
    assert {"missing", "wrong-key", "malformed-header"} <= set(variants)
    if scheme_for(provider, provider.auth.schemes[0]).signs_body:
        assert "tampered-body" in variants
    if provider.auth.tolerance is not None:
        assert "stale-timestamp" in variants
    for variant in variants:
        forged = forge_delivery(provider, _delivery(provider), creds, variant)
        assert forged is not None and forged.label == variant
        assert not verify(forged), variant


def test_tampered_body_is_still_valid_for_its_schema(catalog) -> None:  # type: ignore[no-untyped-def]
    provider = catalog.get("github")
    original = _delivery(provider)
    forged = forge_delivery(provider, original, Credentials(secret="s3cret"), "tampered-body")
    assert forged is not None and forged.body != original.body
    tampered = json.loads(forged.body)
    assert set(tampered) == set(json.loads(original.body)) | {"x_harness_tampered"}
    assert provider.schema_errors(original.event_types[0], tampered) == []
    assert forged.body[:32] == original.body[:32]


def test_atlassian_published_vector() -> None:
    """Atlassian's example: secret "It's a Secret to Everybody", body "Hello World!"."""
    provider = load_catalog().get("jira")
    delivery = Delivery("jira", "POST", {}, b"Hello World!", (), ())
    signed = scheme_for(provider, "jira").sign(
        provider, delivery, Credentials(secret="It's a Secret to Everybody"), NOW
    )
    assert signed.header("X-Hub-Signature") == "sha256=a4771c39fbe90f317c7824e83ddef3caae9cb3d976c214ace1f2937e133263c9"


def test_sendgrid_python_unit_vector_matches_the_bytes_we_sign() -> None:
    """sendgrid-python's published vector: compact, sorted JSON + CRLF, signed over timestamp + body."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    public = (
        "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE83T4O/n84iotIvIW4mdBgQ/7dAfSmpqIM8"
        "kF9mN1flpVKS3GRqe62gw+2fNNRaINXvVpiglSI8eNEc6wEA3F+g=="
    )
    signature = "MEUCIGHQVtGj+Y3LkG9fLcxf3qfI10QysgDWmMOVmxG0u6ZUAiEAyBiXDWzM+uOe5W0JuG+luQAbPIqHh89M15TluLtEZtM="
    event = {
        "email": "hello@world.com",
        "event": "dropped",
        "reason": "Bounced Address",
        "sg_event_id": "ZHJvcC0xMDk5NDkxOS1MUnpYbF9OSFN0T0doUTRrb2ZTbV9BLTA",
        "sg_message_id": "LRzXl_NHStOGhQ4kofSm_A.filterdrecv-p3mdw1-756b745b58-kmzbl-18-5F5FC76C-9.0",
        "smtp-id": "<LRzXl_NHStOGhQ4kofSm_A@ismtpd0039p1iad1.sendgrid.net>",
        "timestamp": 1600112492,
    }
    provider = load_catalog(overrides={"sendgrid": {"body": {"sort_keys": True}}}).get("sendgrid")
    body = build_delivery(provider, [event], now=NOW).body
    assert body.endswith(b"\r\n")
    key = serialization.load_der_public_key(base64.b64decode(public))
    assert isinstance(key, ec.EllipticCurvePublicKey)
    key.verify(base64.b64decode(signature), b"1600112502" + body, ec.ECDSA(hashes.SHA256()))


def test_generated_keypair_public_half_is_what_sendgrid_verifies(tmp_path: Path) -> None:
    pem, public = generate_keypair()
    path = tmp_path / "k.pem"
    path.write_bytes(pem)
    provider = load_catalog().get("sendgrid")
    signed = sign_delivery(provider, _delivery(provider), Credentials(signing_key=str(path)))
    assert _sendgrid_verifier(public)(signed)
