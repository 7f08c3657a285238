"""Form-encoded bodies as a body shape (Twilio's parameters; GitHub's payload=<json>) and Twilio's URL-plus-sorted-
parameters signature, checked with twilio-python's own ``RequestValidator``."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest

from harness.catalog import Provider, load_catalog
from harness.core.models import Delivery
from harness.credentials import Credentials
from harness.deliveries import build_delivery
from harness.engine.runner import RunConfig, run_checks
from harness.receiver import ReferenceReceiver
from harness.signing import applicable_variants, forge_delivery, sign_delivery, tamper, verifiers

URL = "https://hooks.example.com/webhooks/twilio?account=7&x=a+b"
TOKEN = "0123456789abcdef0123456789abcdef"  # an auth token's shape: 32 hex digits


def _twilio() -> Provider:
    return load_catalog().get("twilio")


def _official(d: Delivery, url: str = URL, token: str = TOKEN) -> bool:
    """twilio-python's RequestValidator, given the URL and the parameters as a framework parses them."""
    from twilio.request_validator import RequestValidator

    try:
        params = dict(parse_qsl(d.body.decode("ascii"), keep_blank_values=True, strict_parsing=True))
    except ValueError:
        return False
    return bool(RequestValidator(token).validate(url, params, d.header("X-Twilio-Signature") or ""))


def _deliveries(provider: Provider) -> list[Delivery]:
    return [build_delivery(provider, provider.events[e].samples[0], event_types=[e]) for e in provider.ordinary_events]


def test_the_form_body_shape_round_trips_and_reads_strictly() -> None:
    provider = _twilio()
    sample = dict(provider.events["received"].samples[0], Body="Zoë 東京 🎉 a+b&c=d %20")
    body = provider.encode(sample)
    assert body.isascii() and b"Body=Zo%C3%AB+" in body and provider.decode(body) == sample
    assert not provider.schema_errors("received", provider.decode(body))
    for garbage in (b"{oops, not json}", b'["not", "an", "object"]', b"", b"a=%ff", "é=1".encode()):
        with pytest.raises(ValueError):
            provider.decode(garbage)
    tampered = tamper(provider, body)
    assert tampered.startswith(body) and provider.decode(tampered)["x_harness_tampered"] == "true"


def test_signed_deliveries_pass_twilios_request_validator_and_every_variant_fails_it() -> None:
    provider, creds = _twilio(), Credentials(secret=TOKEN)
    for d in _deliveries(provider):
        assert _official(sign_delivery(provider, d, creds, url=URL)), d.event_types
    variants = applicable_variants(provider, creds)
    assert set(variants) == {"missing", "wrong-key", "malformed-header", "tampered-body"}
    for variant in variants:
        forged = forge_delivery(provider, _deliveries(provider)[0], creds, variant, url=URL)
        assert forged is not None and not _official(forged), variant


def test_the_signature_covers_the_full_url_and_the_parameters_not_their_order() -> None:
    provider, creds = _twilio(), Credentials(secret=TOKEN)
    signed = sign_delivery(provider, _deliveries(provider)[0], creds, url=URL)
    for other in (URL.replace("account=7", "account=8"), URL.split("?")[0], URL.replace("https:", "http:")):
        assert not _official(signed, other), other
    (ours,) = verifiers(provider, creds, lambda token: False)
    reordered = signed.replace(body=b"&".join(reversed(signed.body.split(b"&"))))
    assert _official(reordered) and ours.reason(reordered.headers, reordered.body, URL) is None
    assert ours.reason(signed.headers, signed.body, URL.split("?")[0]) == "X-Twilio-Signature does not match"
    assert ours.reason(signed.headers, b"{not a form}", URL) is not None


def test_non_ascii_text_is_signed_as_twilio_signs_it() -> None:
    provider, creds = _twilio(), Credentials(secret=TOKEN)
    sample = dict(provider.events["received"].samples[0], Body="Grüße – “quoted” 🎉")
    signed = sign_delivery(provider, build_delivery(provider, sample, event_types=["received"]), creds, url=URL)
    assert _official(signed)


def test_githubs_form_content_type_goes_through_the_same_mechanism() -> None:
    """GitHub's payload=<json> encoding: the reference receiver reads it through Provider.decode and passes."""
    github = load_catalog().get("github").encoded_as("form")
    payload = github.events["ping"].samples[0]
    body = github.encode(payload)
    assert body.startswith(b"payload=") and github.decode(body) == payload
    with ReferenceReceiver(github) as rx:
        config = RunConfig(
            provider="github",
            url=rx.url,
            credentials=rx.credentials,
            content_type="form",
            seed=7,
            max_examples=4,
            checks=["accepts-valid", "rejects-bad-auth", "rejects-tampered-body"],
        )
        result = run_checks(config)
    assert {o.check: o.status for o in result.outcomes} == dict.fromkeys(config.checks or (), "passed")
