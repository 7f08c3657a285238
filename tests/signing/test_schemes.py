"""Schemes without an official verifier (OCI Basic, bearer), the registry API, and one-line errors for bad keys."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from harness.catalog import Provider, load_catalog
from harness.core.models import Delivery
from harness.credentials import Credentials
from harness.deliveries import build_delivery
from harness.errors import ConfigError
from harness.signing import (
    SCHEMES,
    VARIANTS,
    active_schemes,
    applicable_variants,
    forge_delivery,
    scheme_for,
    sign_delivery,
)
from harness.signing.keys import load_private_key
from harness.transport import with_userinfo

NOW = 1_700_000_000.0


def _delivery(provider: Provider) -> Delivery:
    event = provider.ordinary_events[0]
    sample = provider.events[event].samples[0]
    payload = [sample] if provider.body.shape == "batch" else sample
    return build_delivery(provider, payload, event_types=[event], now=NOW)


def _wire_authorization(delivery: Delivery, url: str = "http://127.0.0.1:9/hook") -> str | None:
    """The Authorization header requests would put on the wire for this delivery (URL user-info included)."""
    prepared = requests.Request(
        delivery.method, with_userinfo(url, delivery.url_userinfo), headers=dict(delivery.headers), data=delivery.body
    ).prepare()
    return prepared.headers.get("Authorization")


def _basic_ok(header: str | None, user: str, password: str) -> bool:
    """RFC 7617, written independently: 'Basic ' + base64(user ':' password)."""
    return header == "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_every_scheme_the_issue_names_resolves_coded_or_declared() -> None:
    catalog = load_catalog()
    coded = {"sendgrid-ecdsa", "oauth2-client-credentials", "basic", "bearer", "graph-client-state"}
    coded |= {"static-authorization"}
    assert coded == set(SCHEMES.names())
    declared = {
        "teams": "teams-hmac",
        "jira": "jira",
        "github": "github",
        "stripe": "stripe",
        "slack": "slack",
        "shopify": "shopify",
        "standard": "standard",
    }
    for pid, name in declared.items():
        provider = catalog.get(pid)
        assert name in provider.auth.hmac
        assert scheme_for(provider, name).name == name
    assert VARIANTS == ("missing", "wrong-key", "tampered-body", "stale-timestamp", "malformed-header", "expired-token")


def test_oci_basic_travels_as_url_userinfo_and_variants_fail_it() -> None:
    provider = load_catalog().get("oci")
    creds = Credentials(basic=("harness", "p@ss:w/rd"))
    signed = sign_delivery(provider, _delivery(provider), creds, now=NOW)
    assert signed.url_userinfo == ("harness", "p@ss:w/rd")
    assert _basic_ok(_wire_authorization(signed), "harness", "p@ss:w/rd")
    variants = applicable_variants(provider, creds)
    assert variants == ["missing", "wrong-key", "malformed-header"]  # no body signature, no timestamp
    for variant in variants:
        forged = forge_delivery(provider, _delivery(provider), creds, variant, now=NOW)
        assert forged is not None and forged.label == variant
        assert not _basic_ok(_wire_authorization(forged), "harness", "p@ss:w/rd"), variant
    assert _wire_authorization(forge_delivery(provider, signed, creds, "missing") or signed) is None


def test_static_bearer_token_and_its_variants() -> None:
    provider = load_catalog(overrides={"github": {"auth": {"schemes": ["bearer"]}}}).get("github")
    creds = Credentials(bearer="static-token-0123456789")
    signed = sign_delivery(provider, _delivery(provider), creds, now=NOW)
    assert signed.header("Authorization") == "Bearer static-token-0123456789"
    for variant in applicable_variants(provider, creds):
        forged = forge_delivery(provider, _delivery(provider), creds, variant, now=NOW)
        assert forged is not None
        assert forged.header("Authorization") != "Bearer static-token-0123456789", variant


def test_no_credentials_means_no_active_scheme_and_no_variant() -> None:
    provider = load_catalog().get("stripe")
    assert active_schemes(provider, Credentials()) == []
    assert applicable_variants(provider, Credentials()) == []
    assert forge_delivery(provider, _delivery(provider), Credentials(), "wrong-key") is None
    with pytest.raises(ValueError, match="unknown variant"):
        forge_delivery(provider, _delivery(provider), Credentials(secret="s"), "bogus")


def test_each_call_takes_a_fresh_timestamp_and_stale_is_beyond_the_tolerance() -> None:
    provider = load_catalog().get("stripe")
    creds = Credentials(secret="whsec_test")
    first = sign_delivery(provider, _delivery(provider), creds, now=NOW)
    later = sign_delivery(provider, _delivery(provider), creds, now=NOW + 7)
    assert first.timestamp == int(NOW) and later.timestamp == int(NOW) + 7
    assert first.header("Stripe-Signature") != later.header("Stripe-Signature")
    stale = forge_delivery(provider, _delivery(provider), creds, "stale-timestamp", now=NOW)
    assert stale is not None and provider.auth.tolerance is not None
    assert NOW - stale.timestamp > provider.auth.tolerance


def test_untimestamped_or_untolerant_schemes_have_no_stale_variant() -> None:
    catalog = load_catalog()
    assert "stale-timestamp" not in applicable_variants(catalog.get("github"), Credentials(secret="s"))
    no_tolerance = load_catalog(overrides={"stripe": {"auth": {"schemes": ["stripe"], "tolerance": None}}})
    provider = no_tolerance.get("stripe")
    assert "stale-timestamp" not in applicable_variants(provider, Credentials(secret="whsec_x"))
    assert forge_delivery(provider, _delivery(provider), Credentials(secret="whsec_x"), "stale-timestamp") is None


def test_tampered_body_keeps_json_and_the_signed_headers() -> None:
    provider = load_catalog().get("stripe")
    creds = Credentials(secret="whsec_test")
    original = _delivery(provider)
    forged = forge_delivery(provider, original, creds, "tampered-body", now=NOW)
    assert forged is not None
    assert forged.header("Stripe-Signature") == sign_delivery(provider, original, creds, now=NOW).header(
        "Stripe-Signature"
    )
    assert forged.body != original.body and json.loads(forged.body)
    prefix = 0
    while forged.body[prefix] == original.body[prefix]:
        prefix += 1
    assert prefix > len(original.body) // 2  # the change is near the end, not the start


@pytest.mark.parametrize(
    ("provider_id", "secret", "needle"),
    [("teams", "not base64!", "base64"), ("standard", "whsec_***", "whsec_")],
)
def test_secret_in_the_wrong_form_is_a_one_line_config_error(provider_id: str, secret: str, needle: str) -> None:
    provider = load_catalog().get(provider_id)
    with pytest.raises(ConfigError, match=needle) as info:
        sign_delivery(provider, _delivery(provider), Credentials(secret=secret), now=NOW)
    assert secret not in str(info.value)


def test_bad_signing_key_files_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="Cannot read"):
        load_private_key(str(tmp_path / "absent.pem"))
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("hello")
    with pytest.raises(ConfigError, match="keygen sendgrid"):
        load_private_key(str(garbage))
    wrong_curve = tmp_path / "p384.pem"
    wrong_curve.write_bytes(_pem(ec.generate_private_key(ec.SECP384R1())))
    with pytest.raises(ConfigError, match="P-256"):
        load_private_key(str(wrong_curve))
    rsa_key = tmp_path / "rsa.pem"
    rsa_key.write_bytes(_pem(rsa.generate_private_key(public_exponent=65537, key_size=2048)))
    with pytest.raises(ConfigError, match="P-256"):
        load_private_key(str(rsa_key))


def _pem(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def test_standard_resigning_keeps_one_header_family_and_the_message_id() -> None:
    catalog = load_catalog()
    provider = catalog.get("standard")
    scheme = scheme_for(provider, "standard")
    creds = Credentials(secret="whsec_" + base64.b64encode(b"k" * 32).decode())
    unsigned = _delivery(provider).with_headers({"Webhook-Signature": "v1,stale"})  # odd case, already present
    signed = scheme.sign(provider, unsigned, creds, NOW)
    again = scheme.sign(provider, signed, creds, NOW + 1)
    names = [n.lower() for n in again.headers]
    assert len(names) == len(set(names)) and again.header("webhook-timestamp") == str(int(NOW) + 1)
    assert again.header("webhook-id") == signed.header("webhook-id") == unsigned.header("webhook-id")


HMAC_SECRETS = {
    "github": Credentials(secret="It's a Secret to Everybody"),
    "jira": Credentials(secret="It's a Secret to Everybody"),
    "teams": Credentials(secret=base64.b64encode(b"t" * 32).decode()),
    "stripe": Credentials(secret="whsec_test"),
    "slack": Credentials(secret="8f742231b10e8888abcd99yyyzzz85a5"),
    "shopify": Credentials(secret="shpss_secret"),
    "standard": Credentials(secret="whsec_" + base64.b64encode(b"s" * 32).decode()),
}


@pytest.mark.parametrize("pid", sorted(HMAC_SECRETS))
@pytest.mark.parametrize("case", [str.lower, str.upper, str.title])
def test_signing_over_auth_headers_in_another_case_replaces_them(pid: str, case: Callable[[str], str]) -> None:
    """The fast copy is taken only when no auth header is present; otherwise the old one goes, whatever its case."""
    provider = load_catalog().get(pid)
    creds = HMAC_SECRETS[pid]
    base = _delivery(provider)
    clean = sign_delivery(provider, base, creds, now=NOW)
    stale = base.with_headers({case(name): "stale" for name in scheme_for(provider, pid_scheme(pid)).headers})
    signed = sign_delivery(provider, stale, creds, now=NOW)
    names = [n.lower() for n in signed.headers]
    assert len(names) == len(set(names)), signed.headers
    for name, value in clean.headers.items():
        assert signed.header(name) == value  # the same signature as on a clean delivery
    assert "stale" not in signed.headers.values()


def pid_scheme(pid: str) -> str:
    """The HMAC scheme a provider signs with."""
    return {"teams": "teams-hmac"}.get(pid, pid)
