"""AWS SNS's certificate signatures: the harness's messages pass an independent SNS message validator
(aws-sns-message-validator's ``SNSMessageValidator``, trusting the harness's certificate host), every forgery fails it,
and a certificate URL on a foreign host is refused without being fetched."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from harness.catalog import CertificateSpec, load_catalog
from harness.core.models import Delivery
from harness.deliveries import build_delivery
from harness.errors import ConfigError
from harness.signing import (
    applicable_variants,
    certificates_of,
    forge_delivery,
    fresh_credentials,
    serving_certificates,
    sign_delivery,
    verifiers,
)
from harness.signing._x509 import string_to_sign

TEST_HOSTS = r"^http://127\.0\.0\.1:[0-9]+/SimpleNotificationService-[0-9a-f-]+\.pem$"


@pytest.fixture(scope="module")
def sns(tmp_path_factory: pytest.TempPathFactory) -> Any:
    provider = load_catalog().get("aws-sns")
    with serving_certificates(fresh_credentials(provider, Path(tmp_path_factory.mktemp("sns")), "")) as creds:
        yield provider, creds


def _valid(d: Delivery, regex: str = TEST_HOSTS) -> bool:
    """The independent validator: message type, SignatureVersion 1, certificate URL regex, then the RSA signature."""
    from sns_message_validator import SNSMessageValidator

    try:
        SNSMessageValidator(cert_url_regex=regex).validate_message(json.loads(d.body))
    except Exception:  # its exceptions share no base class; any of them means "not valid"
        return False
    return True


def _message(provider: Any, event: str) -> Delivery:
    return build_delivery(provider, provider.events[event].samples[0], event_types=[event])


def test_every_message_type_passes_the_independent_validator(sns: Any) -> None:
    provider, creds = sns
    for event in ("Notification", "SubscriptionConfirmation", "UnsubscribeConfirmation"):
        signed = sign_delivery(provider, _message(provider, event), creds)
        assert _valid(signed), event
        value = json.loads(signed.body)
        assert value["SignatureVersion"] == "1" and value["SigningCertURL"].startswith("http://127.0.0.1:")
        assert abs(time.time() - signed.timestamp) < 5
    no_subject = {k: v for k, v in provider.events["Notification"].samples[0].items() if k != "Subject"}
    assert _valid(sign_delivery(provider, build_delivery(provider, no_subject), creds))


def test_the_production_rule_refuses_the_harnesss_certificate_host(sns: Any) -> None:
    """A receiver configured for SNS alone refuses the harness's messages: it must be told to trust the test host."""
    provider, creds = sns
    signed = sign_delivery(provider, _message(provider, "Notification"), creds)
    assert not _valid(signed, r"^https://sns\.[-a-z0-9]+\.amazonaws\.com/")


def test_every_forgery_fails_the_validator_and_ours(sns: Any) -> None:
    provider, creds = sns
    (ours,) = verifiers(provider, creds, lambda token: False)
    variants = applicable_variants(provider, creds)
    expected = {"missing", "wrong-key", "malformed-header", "tampered-body", "stale-timestamp", "foreign-cert-url"}
    assert set(variants) == expected
    for variant in variants:
        forged = forge_delivery(provider, _message(provider, "Notification"), creds, variant)
        assert forged is not None
        view = ours.view(forged.headers, forged.body)
        refused = ours.reason(view, forged.body) or ours.stale(view, time.time(), provider.auth.tolerance)
        assert refused, variant
        if variant != "stale-timestamp":  # the validator checks no age: a replay passes it
            assert not _valid(forged), variant


def test_a_foreign_certificate_url_is_refused_unfetched_but_a_lax_receiver_fetches_it(sns: Any) -> None:
    provider, creds = sns
    forged = forge_delivery(provider, _message(provider, "Notification"), creds, "foreign-cert-url")
    assert forged is not None
    url = json.loads(forged.body)["SigningCertURL"]
    assert url.startswith("http://localhost:")
    path = url.split("/", 3)[-1]
    (ours,) = verifiers(provider, creds, lambda token: False)
    assert "not fetched" in (ours.reason(ours.view(forged.headers, forged.body), forged.body) or "")
    assert not certificates_of(creds).fetched(path)
    (lax,) = verifiers(provider, creds, lambda token: False, lax=frozenset({"cert-host"}))
    assert lax.reason(lax.view(forged.headers, forged.body), forged.body) is None  # the attacker's own certificate
    assert certificates_of(creds).fetched(path)


def test_a_tampered_message_changes_a_signed_field(sns: Any) -> None:
    provider, creds = sns
    forged = forge_delivery(provider, _message(provider, "Notification"), creds, "tampered-body")
    assert forged is not None
    value = json.loads(forged.body)
    assert value["Message"] != "Hello world!" and value["Message"].startswith("Hello world!"[:-1])
    assert b"Message\n" in string_to_sign(value)


@pytest.mark.parametrize(
    ("url", "trusted"),
    [
        ("https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem", True),
        ("https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-abc.pem", True),
        ("http://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem", False),
        ("https://sns.us-east-1.amazonaws.com.evil.test/cert.pem", False),
        ("https://sns.us-east-1.amazonaws.com@evil.test/cert.pem", False),
        ("https://evil.test/sns.us-east-1.amazonaws.com/cert.pem", False),
        ("http://127.0.0.1:8080/SimpleNotificationService-abc.pem", True),
        ("http://localhost:8080/SimpleNotificationService-abc.pem", False),
        ("file:///etc/passwd", False),
        ("https://sns.us-east-1.amazonaws.com:99999/x.pem", False),
    ],
)
def test_the_certificate_host_rule(url: str, trusted: bool) -> None:
    spec = load_catalog().get("aws-sns").auth.certificate
    assert isinstance(spec, CertificateSpec) and spec.trusted(url) is trusted


def test_keygen_makes_an_rsa_key_the_scheme_signs_with(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from harness.cli import main
    from harness.credentials import Credentials

    key = tmp_path / "sns.pem"
    assert main(["keygen", "aws-sns", "--out", str(key)]) == 0
    assert key.stat().st_mode & 0o777 == 0o600 and "BEGIN CERTIFICATE" in capsys.readouterr().out
    provider = load_catalog().get("aws-sns")
    with pytest.raises(ConfigError, match="serving_certificates"):  # no hidden process-wide certificate server
        sign_delivery(provider, _message(provider, "Notification"), Credentials(signing_key=str(key)))
    with serving_certificates(Credentials(signing_key=str(key))) as creds:
        assert _valid(sign_delivery(provider, _message(provider, "Notification"), creds))
        server = certificates_of(creds)
        assert server.running
    assert not server.running
    assert main(["keygen", "aws-sns", "--out", str(key)]) == 2  # no silent overwrite


def test_signature_version_2_signs_with_sha256(sns: Any) -> None:
    import dataclasses

    provider, creds = sns
    spec = provider.auth.certificate
    v2 = dataclasses.replace(
        provider, auth=dataclasses.replace(provider.auth, certificate=dataclasses.replace(spec, signature_version="2"))
    )
    signed = sign_delivery(v2, _message(v2, "Notification"), creds)
    assert json.loads(signed.body)["SignatureVersion"] == "2"
    (ours,) = verifiers(v2, creds, lambda token: False)
    assert ours.reason(ours.view(signed.headers, signed.body), signed.body) is None
    assert not _valid(signed)  # the independent validator knows SHA1withRSA (version 1) only
    tampered = json.loads(signed.body)
    tampered["SignatureVersion"] = "1"  # the same signature read as SHA1withRSA: refused
    assert ours.reason({}, json.dumps(tampered).encode()) == "SNS signature does not verify"
