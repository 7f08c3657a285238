"""``{url}`` in a declarative scheme: the target URL is signed (without user-info), checked, and never guessed."""

from __future__ import annotations

import base64
import hashlib
import hmac
from pathlib import Path

import pytest

from harness.catalog import Provider, load_catalog
from harness.core.models import Delivery
from harness.credentials import Credentials
from harness.deliveries import build_delivery
from harness.errors import ConfigError, HarnessError
from harness.signing import forge_delivery, sign_delivery, signing_url, verifiers
from tests.signing._custom import provider_with

NOW = 1_700_000_000.0
URL = "https://hooks.example.com/square/webhook?tenant=42"


def _delivery(provider: Provider) -> Delivery:
    event = sorted(provider.ordinary_events)[0]
    return build_delivery(provider, provider.events[event].samples[0], event_types=[event], now=NOW)


def _mac(key: str, message: bytes) -> bytes:
    return hmac.new(key.encode(), message, hashlib.sha256).digest()


def test_url_then_body_signs_the_url_bytes_before_the_body_and_verifies_only_for_that_url(tmp_path: Path) -> None:
    provider = provider_with(tmp_path, {"header": "X-Sig", "encoding": "base64", "content": "{url}{body}"})
    creds = Credentials(secret="k3y")
    delivery = _delivery(provider)
    signed = sign_delivery(provider, delivery, creds, now=NOW, url=URL)
    assert signed.url == URL
    assert signed.header("X-Sig") == base64.b64encode(_mac("k3y", URL.encode() + delivery.body)).decode()
    (check,) = verifiers(provider, creds, lambda token: False)
    assert check.reason(signed.headers, signed.body, URL) is None
    assert check.reason(signed.headers, signed.body, URL.replace("42", "43")) == "X-Sig does not match"
    assert check.reason(signed.headers, signed.body, URL.partition("?")[0]) == "X-Sig does not match"  # query signed
    assert check.reason(signed.headers, signed.body + b" ", URL) == "X-Sig does not match"


def test_url_with_timestamp_and_a_header_takes_the_general_template_path(tmp_path: Path) -> None:
    description = {
        "header": "X-Sig",
        "content": "{timestamp}.{url}.{header:X-GitHub-Event}.{body}",
        "timestamp": {"header": "X-Stamp"},
    }
    provider = provider_with(tmp_path, description, tolerance="5m")
    creds = Credentials(secret="k3y")
    delivery = _delivery(provider)
    signed = sign_delivery(provider, delivery, creds, now=NOW, url=URL)
    message = f"{int(NOW)}.{URL}.{delivery.header('X-GitHub-Event')}.".encode() + delivery.body
    assert signed.header("X-Sig") == _mac("k3y", message).hex()
    (check,) = verifiers(provider, creds, lambda token: False)
    assert check.reason(signed.headers, signed.body, URL) is None
    assert check.reason(signed.headers, signed.body, "https://elsewhere.example/") == "X-Sig does not match"


def test_user_info_and_fragment_are_not_signed_but_the_query_string_is() -> None:
    assert signing_url("https://user:p%40ss@hooks.example.com:8443/a/b?x=1&y=2#frag") == (
        "https://hooks.example.com:8443/a/b?x=1&y=2"
    )
    assert signing_url(URL) is URL  # nothing to strip: the string itself, no parse
    provider = load_catalog().get("square")
    creds = Credentials(secret="sig-key")
    delivery = _delivery(provider)
    with_userinfo = sign_delivery(provider, delivery, creds, url="https://u:secret@hooks.example.com/sq?a=1")
    plain = sign_delivery(provider, delivery, creds, url="https://hooks.example.com/sq?a=1")
    assert with_userinfo.url == "https://hooks.example.com/sq?a=1" and "secret" not in repr(with_userinfo)
    assert with_userinfo.headers == plain.headers


@pytest.mark.parametrize("how", ["sign", "forge", "verify"])
def test_a_scheme_that_signs_the_url_refuses_to_work_without_one(how: str) -> None:
    provider = load_catalog().get("square")
    creds = Credentials(secret="sig-key")
    delivery = _delivery(provider)
    with pytest.raises(ConfigError) as info:
        if how == "sign":
            sign_delivery(provider, delivery, creds)
        elif how == "forge":
            forge_delivery(provider, delivery, creds, "wrong-key")
        else:
            (check,) = verifiers(provider, creds, lambda token: False)
            check.reason({"x-square-hmacsha256-signature": "AAAA"}, delivery.body)
    message = str(info.value)
    assert isinstance(info.value, HarnessError) and "\n" not in message
    assert message == "square signs the URL each request is posted to, and no URL was given (url=)."


def test_the_url_on_the_delivery_is_used_when_none_is_passed() -> None:
    provider = load_catalog().get("square")
    creds = Credentials(secret="sig-key")
    delivery = _delivery(provider).replace(url=URL)
    assert sign_delivery(provider, delivery, creds).headers == sign_delivery(provider, delivery, creds, url=URL).headers


def test_every_negative_variant_keeps_the_url_so_only_the_forged_part_is_wrong() -> None:
    provider = load_catalog().get("square")
    creds = Credentials(secret="sig-key")
    (check,) = verifiers(provider, creds, lambda token: False)
    delivery = _delivery(provider)
    assert check.reason(sign_delivery(provider, delivery, creds, url=URL).headers, delivery.body, URL) is None
    reasons = {}
    for variant in ("missing", "wrong-key", "malformed-header", "tampered-body"):
        forged = forge_delivery(provider, delivery, creds, variant, url=URL)
        assert forged is not None and forged.url == URL
        reasons[variant] = check.reason(forged.headers, forged.body, URL)
    assert reasons == {
        "missing": "missing x-square-hmacsha256-signature",
        "wrong-key": "x-square-hmacsha256-signature does not match",
        "malformed-header": "malformed x-square-hmacsha256-signature",
        "tampered-body": "x-square-hmacsha256-signature does not match",
    }


def test_schemes_that_do_not_sign_the_url_ignore_it() -> None:
    provider = load_catalog().get("github")
    creds = Credentials(secret="k3y")
    delivery = _delivery(provider)
    signed = sign_delivery(provider, delivery, creds, now=NOW, url=URL)
    assert signed.url == "" and signed.headers == sign_delivery(provider, delivery, creds, now=NOW).headers
