"""Ed25519 (Discord, Standard Webhooks v1a), OIDC tokens (Pub/Sub push) and Mailgun's body signature, judged by
verifiers we did not write: PyNaCl as Discord's docs use it, google-auth and PyJWT against the JWKS the harness
serves, and Mailgun's documented check. Signed deliveries pass them; every forgery fails them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import jwt
import pytest
from google.auth import exceptions as google_exceptions
from google.auth.transport.requests import Request
from google.oauth2 import id_token
from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from harness.catalog import Provider, load_catalog
from harness.core.models import Delivery
from harness.deliveries import build_delivery
from harness.signing import SCHEMES, applicable_variants, forge_delivery, fresh_credentials, sign_delivery, verifiers
from harness.signing.issuer import DISCOVERY_PATH, IssuerServer

CATALOG = load_catalog()
PUSH_ENDPOINT = "https://push.example.com/pubsub/storage?token=abc"


def _delivery(provider: Provider) -> Delivery:
    event = provider.ordinary_events[0]
    return build_delivery(provider, provider.events[event].samples[0], event_types=[event])


def _creds(pid: str) -> Any:
    from pathlib import Path

    return fresh_credentials(CATALOG.get(pid), Path("."), "")


# -- Discord: exactly as Discord's docs verify with PyNaCl -------------------------------------------------------


def _discord_verifies(public_key_hex: str, d: Delivery) -> bool:
    """Discord's documented Python check: VerifyKey(bytes.fromhex(PUBLIC_KEY)).verify(timestamp + body, sig)."""
    verify_key = VerifyKey(bytes.fromhex(public_key_hex))
    signature = d.header("X-Signature-Ed25519") or ""
    timestamp = d.header("X-Signature-Timestamp") or ""
    body = d.body.decode("utf-8")
    try:
        verify_key.verify(f"{timestamp}{body}".encode(), bytes.fromhex(signature))
    except (BadSignatureError, ValueError):
        return False
    return True


def test_discord_signatures_pass_pynacl_and_every_forgery_fails_it() -> None:
    provider, creds = CATALOG.get("discord"), _creds("discord")
    public = SCHEMES.get("discord-ed25519").public_key(creds)  # type: ignore[attr-defined]
    assert len(public) == 64 and bytes.fromhex(public)
    for event in provider.events:
        for sample in provider.events[event].samples:
            signed = sign_delivery(provider, build_delivery(provider, sample, event_types=[event]), creds)
            assert _discord_verifies(public, signed), event
    variants = applicable_variants(provider, creds)
    assert set(variants) == {"missing", "wrong-key", "malformed-header", "tampered-body"}
    for variant in variants:
        forged = forge_delivery(provider, _delivery(provider), creds, variant)
        assert forged is not None and not _discord_verifies(public, forged), variant


def test_a_pynacl_signed_interaction_passes_our_verifier() -> None:
    """The other direction: a message signed by PyNaCl with the same key is accepted by the registered verifier."""
    provider, creds = CATALOG.get("discord"), _creds("discord")
    signing = SigningKey(bytes.fromhex(creds.signing_key))
    body, stamp = b'{"type":1,"id":"1","application_id":"2","token":"t","version":1}', str(int(time.time()))
    headers = {
        "X-Signature-Ed25519": signing.sign(stamp.encode() + body).signature.hex(),
        "X-Signature-Timestamp": stamp,
    }
    (verifier,) = verifiers(provider, creds, lambda token: False)
    assert verifier.reason(headers, body) is None
    assert verifier.reason(headers, body + b" ") is not None


# -- Standard Webhooks v1a: the spec's text, checked with PyNaCl ------------------------------------------------------


def _v1a_verifies(whpk: str, d: Delivery) -> bool:
    """The spec: any space-separated ``v1a,<base64>`` entry is an Ed25519 signature of ``{id}.{timestamp}.{body}``."""
    assert whpk.startswith("whpk_")
    verify_key = VerifyKey(base64.b64decode(whpk.removeprefix("whpk_")))
    content = f"{d.header('webhook-id')}.{d.header('webhook-timestamp')}.".encode() + d.body
    for entry in (d.header("webhook-signature") or "").split(" "):
        version, _, signature = entry.partition(",")
        if version != "v1a":
            continue
        try:
            verify_key.verify(content, base64.b64decode(signature, validate=True))
        except (BadSignatureError, ValueError):
            continue
        return True
    return False


def test_standard_v1a_signatures_pass_pynacl_and_every_forgery_fails_it() -> None:
    provider, creds = CATALOG.get("standard-v1a"), _creds("standard-v1a")
    assert creds.signing_key.startswith("whsk_")
    whpk = SCHEMES.get("standard-v1a").public_key(creds)  # type: ignore[attr-defined]
    seed = base64.b64decode(creds.signing_key.removeprefix("whsk_"))
    assert bytes(SigningKey(seed).verify_key) == base64.b64decode(whpk.removeprefix("whpk_"))  # libsodium agrees
    for event in provider.ordinary_events:
        signed = sign_delivery(provider, build_delivery(provider, provider.events[event].samples[0]), creds)
        assert (signed.header("webhook-signature") or "").startswith("v1a,")
        assert _v1a_verifies(whpk, signed), event
    variants = applicable_variants(provider, creds)
    assert set(variants) == {"missing", "wrong-key", "malformed-header", "tampered-body", "stale-timestamp"}
    for variant in set(variants) - {"stale-timestamp"}:  # PyNaCl checks no timestamp; the stale one is well signed
        forged = forge_delivery(provider, _delivery(provider), creds, variant)
        assert forged is not None and not _v1a_verifies(whpk, forged), variant


def test_standard_v1a_rotation_sends_one_entry_per_key_and_any_verifies() -> None:
    provider, creds = CATALOG.get("standard-v1a"), _creds("standard-v1a")
    scheme = SCHEMES.get("standard-v1a")
    whpk = scheme.public_key(creds)  # type: ignore[attr-defined]
    other = scheme.rotation_key(creds)  # type: ignore[attr-defined]
    for first in (True, False):
        signed = scheme.sign_rotated(  # type: ignore[attr-defined]
            provider, _delivery(provider), creds, time.time(), extra_keys=[other], extra_first=first
        )
        assert len((signed.header("webhook-signature") or "").split(" ")) == 2
        assert _v1a_verifies(whpk, signed)


def test_a_64_byte_libsodium_secret_key_signs_like_its_seed() -> None:
    """whsk_ holding libsodium's 64-byte secret key (seed + public key) is read by its seed."""
    provider, creds = CATALOG.get("standard-v1a"), _creds("standard-v1a")
    seed = base64.b64decode(creds.signing_key.removeprefix("whsk_"))
    long_form = "whsk_" + base64.b64encode(seed + bytes(SigningKey(seed).verify_key)).decode()
    signed = sign_delivery(provider, _delivery(provider), creds.__class__(signing_key=long_form))
    assert _v1a_verifies(SCHEMES.get("standard-v1a").public_key(creds), signed)  # type: ignore[attr-defined]


# -- Pub/Sub push: google-auth and PyJWT against the JWKS and certificates the harness serves --------------------------


@pytest.fixture(scope="module")
def pubsub() -> Any:
    creds = _creds("gcp-pubsub")
    with IssuerServer(creds) as server:
        overlay = {"gcp-pubsub": {"auth": {"oidc": {"issuer": server.issuer}}}}
        provider = load_catalog(overrides=overlay).get("gcp-pubsub")
        yield provider, creds, server


def _token(d: Delivery) -> str:
    scheme, _, token = (d.header("Authorization") or "").partition(" ")
    assert scheme == "Bearer"
    return token


def _google_auth(token: str, certs_url: str, issuer: str, email: str) -> bool:
    """google-auth's verify_token, then the issuer and service-account checks Google's docs add."""
    try:
        claims = id_token.verify_token(token, Request(), audience=PUSH_ENDPOINT, certs_url=certs_url)
    except (ValueError, google_exceptions.GoogleAuthError, jwt.PyJWTError):
        return False
    return claims["iss"] == issuer and claims["email"] == email and claims["email_verified"] is True


def _pyjwt(token: str, jwks_url: str, issuer: str, email: str) -> bool:
    try:
        key = jwt.PyJWKClient(jwks_url).get_signing_key_from_jwt(token)
        claims = jwt.decode(token, key.key, algorithms=["RS256"], audience=PUSH_ENDPOINT, issuer=issuer)
    except jwt.PyJWTError:
        return False
    return claims["email"] == email and claims["email_verified"] is True


def test_the_issuer_serves_discovery_jwks_and_certificates(pubsub: Any) -> None:
    import requests

    _, _, server = pubsub
    found = requests.get(server.issuer + DISCOVERY_PATH, timeout=5).json()
    assert found["issuer"] == server.issuer and found["jwks_uri"] == server.jwks_url
    assert found["id_token_signing_alg_values_supported"] == ["RS256"]
    (key,) = requests.get(server.jwks_url, timeout=5).json()["keys"]
    assert key["kty"] == "RSA" and key["alg"] == "RS256" and key["use"] == "sig"
    certs = requests.get(server.certs_url, timeout=5).json()
    assert list(certs) == [key["kid"]] and certs[key["kid"]].startswith("-----BEGIN CERTIFICATE-----")
    assert requests.get(server.issuer + "/nope", timeout=5).status_code == 404


@pytest.mark.parametrize("which", ["jwks", "certs"])
def test_pubsub_tokens_pass_google_auth_and_every_forgery_fails_it(pubsub: Any, which: str) -> None:
    provider, creds, server = pubsub
    url = server.jwks_url if which == "jwks" else server.certs_url
    email = provider.auth.oidc.email
    signed = sign_delivery(provider, _delivery(provider), creds, url=PUSH_ENDPOINT)
    claims = jwt.decode(_token(signed), options={"verify_signature": False})
    assert claims["aud"] == PUSH_ENDPOINT and claims["exp"] - claims["iat"] == 3600
    assert _google_auth(_token(signed), url, server.issuer, email)
    variants = applicable_variants(provider, creds)
    assert {"wrong-audience", "wrong-issuer", "wrong-email", "alg-none", "unsigned", "expired-token"} <= set(variants)
    for variant in set(variants) - {"missing"}:
        forged = forge_delivery(provider, _delivery(provider), creds, variant, url=PUSH_ENDPOINT)
        assert forged is not None and not _google_auth(_token(forged), url, server.issuer, email), variant


def test_pubsub_tokens_pass_pyjwt_and_every_forgery_fails_it(pubsub: Any) -> None:
    provider, creds, server = pubsub
    email = provider.auth.oidc.email
    signed = sign_delivery(provider, _delivery(provider), creds, url=PUSH_ENDPOINT)
    assert _pyjwt(_token(signed), server.jwks_url, server.issuer, email)
    for variant in set(applicable_variants(provider, creds)) - {"missing"}:
        forged = forge_delivery(provider, _delivery(provider), creds, variant, url=PUSH_ENDPOINT)
        assert forged is not None and not _pyjwt(_token(forged), server.jwks_url, server.issuer, email), variant


def test_an_alg_none_token_is_what_pyjwt_refuses_and_a_decoder_accepts(pubsub: Any) -> None:
    """The forgery is the real attack: a receiver that only decodes reads valid-looking claims from it."""
    provider, creds, _ = pubsub
    forged = forge_delivery(provider, _delivery(provider), creds, "alg-none", url=PUSH_ENDPOINT)
    assert forged is not None
    token = _token(forged)
    assert jwt.get_unverified_header(token)["alg"] == "none"
    assert jwt.decode(token, options={"verify_signature": False})["aud"] == PUSH_ENDPOINT


# -- Mailgun: the check exactly as Mailgun's docs write it ---------------------------------------------------------


def _mailgun_verify(signing_key: str, token: str, timestamp: str, signature: str) -> bool:
    """Mailgun's documented Python check (securing webhooks)."""
    hmac_digest = hmac.new(
        key=signing_key.encode(), msg=f"{timestamp}{token}".encode(), digestmod=hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(str(signature), str(hmac_digest))


def _mailgun_accepts(signing_key: str, d: Delivery, seen: set[str]) -> bool:
    """The documented check plus its recommended token cache."""
    try:
        sig = json.loads(d.body)["signature"]
        token, timestamp, signature = sig["token"], sig["timestamp"], sig["signature"]
    except (ValueError, KeyError, TypeError):
        return False
    if token in seen or not _mailgun_verify(signing_key, token, timestamp, signature):
        return False
    seen.add(token)
    return True


def test_mailgun_signatures_pass_mailguns_check_and_every_forgery_fails_it() -> None:
    provider, creds = CATALOG.get("mailgun"), _creds("mailgun")
    seen: set[str] = set()
    for event in provider.ordinary_events:
        signed = sign_delivery(provider, build_delivery(provider, provider.events[event].samples[0]), creds)
        assert json.loads(signed.body)["event-data"]["event"] == event
        assert _mailgun_accepts(creds.secret, signed, seen), event
    variants = applicable_variants(provider, creds)
    assert set(variants) == {"missing", "wrong-key", "malformed-header", "stale-timestamp"}
    for variant in set(variants) - {"stale-timestamp"}:
        forged = forge_delivery(provider, _delivery(provider), creds, variant)
        assert forged is not None and not _mailgun_accepts(creds.secret, forged, set()), variant


def test_a_replayed_mailgun_token_passes_the_hmac_and_only_the_cache_refuses_it() -> None:
    provider, creds = CATALOG.get("mailgun"), _creds("mailgun")
    scheme = SCHEMES.get("mailgun")
    sent = sign_delivery(provider, _delivery(provider), creds)
    other = build_delivery(provider, provider.events["opened"].samples[0])
    replay = scheme.replayed(provider, sent, other)  # type: ignore[attr-defined]
    assert json.loads(replay.body)["event-data"]["event"] == "opened"
    assert _mailgun_accepts(creds.secret, replay, set())  # the HMAC alone cannot tell
    seen: set[str] = set()
    assert _mailgun_accepts(creds.secret, sent, seen) and not _mailgun_accepts(creds.secret, replay, seen)
    (verifier,) = verifiers(provider, creds, lambda token: False)
    assert verifier.reason({}, sent.body) is None and "already used" in (verifier.reason({}, replay.body) or "")
    assert verifier.reason({}, sent.body) is None  # the same bytes again: a duplicate delivery, not a forgery


# -- keygen: every key type these schemes need -----------------------------------------------------------------


@pytest.mark.parametrize("pid", ["standard-v1a", "discord", "gcp-pubsub"])
def test_keygen_writes_a_key_the_scheme_signs_with_and_prints_its_public_half(
    pid: str, tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from harness.cli import main
    from harness.cli._keygen import PROVIDERS
    from harness.credentials import Credentials
    from harness.signing.keys import KEYGEN

    assert set(PROVIDERS) == set(KEYGEN)
    key = tmp_path / "key.pem"
    assert main(["keygen", pid, "--out", str(key)]) == 0
    assert key.stat().st_mode & 0o777 == 0o600 and b"PRIVATE KEY" in key.read_bytes()
    printed = capsys.readouterr().out
    provider, creds = CATALOG.get(pid), Credentials(signing_key=str(key))
    signed = sign_delivery(provider, _delivery(provider), creds, url=PUSH_ENDPOINT)
    if pid == "gcp-pubsub":
        (jwk,) = json.loads(printed[printed.index("{") :])["keys"]
        public = jwt.PyJWK(jwk).key
        assert jwt.decode(_token(signed), public, algorithms=["RS256"], audience=PUSH_ENDPOINT)["aud"] == PUSH_ENDPOINT
        return
    public = printed.strip().splitlines()[-1]
    if pid == "discord":
        assert _discord_verifies(public, signed)
    else:
        assert public.startswith("whpk_") and _v1a_verifies(public, signed)
    assert str(key) not in printed or "written to" in printed


def test_a_key_file_holding_whsk_text_signs_too(tmp_path: Any) -> None:
    from harness.credentials import Credentials

    provider, creds = CATALOG.get("standard-v1a"), _creds("standard-v1a")
    path = tmp_path / "whsk.txt"
    path.write_text(creds.signing_key + "\n")
    whpk = SCHEMES.get("standard-v1a").public_key(creds)  # type: ignore[attr-defined]
    assert _v1a_verifies(whpk, sign_delivery(provider, _delivery(provider), Credentials(signing_key=str(path))))


def test_the_stable_helpers_sign_and_verify_the_new_schemes() -> None:
    from harness.errors import UsageError
    from harness.signatures import sign, verify, verify_reason

    for pid in ("discord", "standard-v1a"):
        creds, body = _creds(pid), b'{"type":2,"id":"1"}'
        headers = sign(pid, body, creds)
        assert verify(pid, body, headers, creds) and not verify(pid, body + b" ", headers, creds)
    creds = _creds("gcp-pubsub")
    headers = sign("gcp-pubsub", b"{}", creds, url=PUSH_ENDPOINT)
    assert verify("gcp-pubsub", b"{}", headers, creds, url=PUSH_ENDPOINT)
    assert "wrong audience" in (verify_reason("gcp-pubsub", b"{}", headers, creds, url=PUSH_ENDPOINT + "x") or "")
    creds = _creds("mailgun")
    with pytest.raises(UsageError, match="signs inside the body"):
        sign("mailgun", b"{}", creds)
    signed = sign_delivery(CATALOG.get("mailgun"), _delivery(CATALOG.get("mailgun")), creds, now=time.time() - 900)
    assert verify_reason("mailgun", signed.body, {}, creds) == "mailgun: timestamp too old"


def test_an_oidc_token_without_a_url_or_an_audience_is_one_line() -> None:
    from harness.errors import ConfigError

    provider, creds = CATALOG.get("gcp-pubsub"), _creds("gcp-pubsub")
    with pytest.raises(ConfigError, match=r"no URL was given \(url=\); or set auth.oidc.audience"):
        sign_delivery(provider, _delivery(provider), creds)
    fixed = load_catalog(overrides={"gcp-pubsub": {"auth": {"oidc": {"audience": "my-audience"}}}}).get("gcp-pubsub")
    signed = sign_delivery(fixed, _delivery(fixed), creds)
    assert jwt.decode(_token(signed), options={"verify_signature": False})["aud"] == "my-audience"


def test_a_v1a_receiver_reads_its_entry_beside_a_symmetric_v1_one() -> None:
    """The spec's example header carries ``v1,<hmac> v1a,<ed25519>``: a v1a receiver skips the v1 entry."""
    provider, creds = CATALOG.get("standard-v1a"), _creds("standard-v1a")
    signed = sign_delivery(provider, _delivery(provider), creds)
    mixed = "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4= " + (signed.header("webhook-signature") or "")
    headers = {**signed.headers, "webhook-signature": mixed}
    (verifier,) = verifiers(provider, creds, lambda token: False)
    assert verifier.reason(headers, signed.body) is None
    assert verifier.reason({**headers, "webhook-signature": mixed.split(" ")[0]}, signed.body) is not None


def test_a_run_serves_the_loopback_issuer_its_profile_names_and_stops_it() -> None:
    """auth.oidc.issuer http://127.0.0.1:PORT: the session serves discovery and keys there for the run's length."""
    import socket

    import requests

    from harness.engine.session import Session
    from harness.receiver import ReferenceReceiver
    from harness.settings.resolve import RunConfig

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    issuer = f"http://localhost:{port}"
    overlay = {"gcp-pubsub": {"auth": {"oidc": {"issuer": issuer}}}}
    with ReferenceReceiver("gcp-pubsub") as rx:
        config = RunConfig(provider="gcp-pubsub", url=rx.url, credentials=rx.credentials, overrides=overlay)
        with Session(config) as session:
            ctx = session.context()
            found = requests.get(f"http://127.0.0.1:{port}{DISCOVERY_PATH}", timeout=5).json()
            assert found["issuer"] == issuer and found["jwks_uri"] == issuer + "/oauth2/v3/certs"
            token = _token(ctx.sign(_delivery(ctx.provider)))
            key = jwt.PyJWKClient(found["jwks_uri"]).get_signing_key_from_jwt(token)
            claims = jwt.decode(token, key.key, algorithms=["RS256"], audience=rx.url, issuer=issuer)
            assert claims["email"] == ctx.provider.auth.oidc.email
        with pytest.raises(requests.ConnectionError):
            requests.get(f"http://127.0.0.1:{port}{DISCOVERY_PATH}", timeout=5)
    elsewhere = load_catalog(overrides={"gcp-pubsub": {"auth": {"oidc": {"issuer": "https://issuer.example"}}}})
    from harness.signing.issuer import issuer_for

    assert issuer_for(elsewhere.get("gcp-pubsub"), _creds("gcp-pubsub")) is None  # hosted elsewhere: not served
