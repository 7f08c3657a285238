"""Declarative HMAC schemes: exact against the coded schemes they replaced, strict about bad descriptions."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import pytest

from harness.catalog import Provider, load_catalog
from harness.core.models import Delivery
from harness.credentials import Credentials
from harness.deliveries import build_delivery
from harness.errors import SchemaLoadError
from harness.signing import VARIANTS, forge_delivery, sign_delivery, verifiers
from tests.signing._custom import provider_with

NOW = 1_700_000_000.0
# What the coded HMAC schemes (harness/signing/_hmac.py and _mac.py at f0b5123, which the declarative profiles
# replaced) signed: one delivery per provider, its headers at three moments. Known answers, not a second copy.
CODED: dict[str, Any] = json.loads((Path(__file__).parent / "coded_scheme_answers.json").read_text(encoding="utf-8"))


def _deliveries(provider: Provider) -> list[Delivery]:
    out = []
    for event in provider.ordinary_events:
        for sample in provider.events[event].samples:
            payload = [sample] if provider.body.shape == "batch" else sample
            out.append(build_delivery(provider, payload, event_types=[event], now=NOW))
    return out


@pytest.mark.parametrize("pid", sorted(CODED))
def test_declarative_profile_gives_byte_identical_headers_to_the_coded_scheme(pid: str) -> None:
    provider = load_catalog().get(pid)
    answers = CODED[pid]
    creds = Credentials(secret=answers["secret"])
    assert provider.auth.schemes and set(provider.auth.schemes) <= set(provider.auth.hmac)
    delivery = Delivery(pid, answers["method"], answers["headers"], answers["body"].encode("utf-8"), (), ())
    for known in answers["signed"]:
        ours = sign_delivery(provider, delivery, creds, now=known["now"])
        assert dict(ours.headers) == known["headers"], pid
        assert ours.timestamp == known["timestamp"]
    assert len(answers["signed"]) == 3


@pytest.mark.parametrize("pid", sorted(CODED))
def test_the_schemes_own_verifier_accepts_valid_and_rejects_every_variant(pid: str) -> None:
    provider = load_catalog().get(pid)
    creds = Credentials(secret=CODED[pid]["secret"])
    (check,) = verifiers(provider, creds, lambda token: False)
    delivery = _deliveries(provider)[0]
    signed = sign_delivery(provider, delivery, creds, now=NOW)
    assert check.check(signed.headers, signed.body) is None
    assert check.stale(signed.headers, NOW, provider.auth.tolerance) is None
    rejected = 0
    for variant in VARIANTS:
        forged = forge_delivery(provider, delivery, creds, variant, now=NOW)
        if forged is None:
            continue
        reason = check.check(forged.headers, forged.body) or check.stale(forged.headers, NOW, provider.auth.tolerance)
        assert reason, variant
        rejected += 1
    assert rejected >= 4


@pytest.mark.parametrize(
    ("algorithm", "encoding", "expected"),
    [
        ("sha1", "hex", lambda key, msg: hmac.new(key, msg, hashlib.sha1).hexdigest()),
        ("sha512", "base64", lambda key, msg: base64.b64encode(hmac.new(key, msg, hashlib.sha512).digest()).decode()),
        (
            "sha256",
            "base64url",
            lambda key, msg: base64.urlsafe_b64encode(hmac.new(key, msg, hashlib.sha256).digest()).decode(),
        ),
    ],
)
def test_algorithms_encodings_and_named_headers_match_the_standard_library(
    tmp_path: Path, algorithm: str, encoding: str, expected: Any
) -> None:
    description = {
        "header": "X-Sig",
        "algorithm": algorithm,
        "encoding": encoding,
        "prefix": f"{algorithm}=",
        "content": "{timestamp}|{header:X-GitHub-Event}|{body}",
        "timestamp": {"header": "X-Stamp", "format": "unix-ms"},
    }
    provider = provider_with(tmp_path, description, tolerance="5m")
    creds = Credentials(secret="k3y")
    delivery = _deliveries(provider)[0]
    signed = sign_delivery(provider, delivery, creds, now=NOW)
    stamp = str(int(NOW * 1000))
    assert signed.header("X-Stamp") == stamp
    message = f"{stamp}|{delivery.header('X-GitHub-Event')}|".encode() + delivery.body
    assert signed.header("X-Sig") == f"{algorithm}=" + expected(b"k3y", message)
    (check,) = verifiers(provider, creds, lambda token: False)
    assert check.check(signed.headers, signed.body) is None
    assert check.stale(signed.headers, NOW + 299, provider.auth.tolerance) is None
    assert check.stale(signed.headers, NOW + 301, provider.auth.tolerance) == "timestamp too old"
    renamed = signed.with_headers({"X-GitHub-Event": "other"})  # a signed header changed in transit
    assert check.check(renamed.headers, renamed.body) == "X-Sig does not match"


def test_several_signatures_any_matching_one_is_accepted(tmp_path: Path) -> None:
    description = {"header": "X-Sig", "format": "v1={signature}", "separator": ","}
    provider = provider_with(tmp_path, description)
    creds = Credentials(secret="k3y")
    signed = sign_delivery(provider, _deliveries(provider)[0], creds, now=NOW)
    (check,) = verifiers(provider, creds, lambda token: False)
    rotated = signed.with_headers({"X-Sig": "v1=" + "ab" * 32 + "," + signed.header("X-Sig")})  # type: ignore[operator]
    assert check.check(rotated.headers, rotated.body) is None
    only_old = signed.with_headers({"X-Sig": "v1=" + "ab" * 32})
    assert check.check(only_old.headers, only_old.body) == "X-Sig does not match"


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"content": "{timestamp}.{bodyy}"}, "auth.hmac.custom.content: unknown field {bodyy}"),
        ({"content": "{uri}{body}"}, "auth.hmac.custom.content: unknown field {uri}"),
        ({"algorithm": "md5"}, "auth/hmac/custom/algorithm: 'md5' is not one of"),
        ({"encoding": "base32"}, "auth/hmac/custom/encoding: 'base32' is not one of"),
        ({"format": "sig={sig}"}, "auth.hmac.custom.format: unknown field {sig}"),
        ({"content": "{timestamp}.{body}"}, "the content signs {timestamp}"),
        ({"content": "{id}.{body}"}, "the content signs {id}"),
    ],
)
def test_a_bad_description_is_one_line_naming_the_file_and_the_place(
    tmp_path: Path, change: dict[str, Any], needle: str
) -> None:
    with pytest.raises(SchemaLoadError) as info:
        provider_with(tmp_path, {"header": "X-Sig", **change})
    message = str(info.value)
    assert needle in message and "profile.json" in message and "\n" not in message


def test_signing_reads_no_private_delivery_state() -> None:
    """Signing goes through Delivery's public methods only (issue 11: no reaching into ``__dict__``)."""
    root = Path(__file__).resolve().parents[2] / "harness" / "signing"
    offenders = [p.name for p in root.glob("*.py") if "__dict__" in p.read_text()]
    assert offenders == []
