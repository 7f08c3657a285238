"""A delivery recorded ten minutes ago, re-signed by replay, passes the providers' own verifiers with tolerance."""

from __future__ import annotations

import time
from pathlib import Path

from harness.credentials import Credentials
from harness.recording import Record, record_of, resign, to_delivery
from harness.signing import sign_delivery
from tests.recording._helpers import CATALOG, unsigned

THEN = time.time() - 600


def _old_recording(provider_id: str, creds: Credentials) -> Record:
    provider = CATALOG.get(provider_id)
    old = sign_delivery(provider, unsigned(provider, 1, seed=12)[0], creds, now=THEN)
    return record_of(old, path="/", received_at="")


def test_stripe_construct_event_accepts_the_replay_and_rejects_the_recording() -> None:
    import stripe

    secret = "whsec_" + "c2VjcmV0LWZvci1yZWNvcmRpbmctdGVzdHM="
    creds = Credentials(secret=secret)
    provider = CATALOG.get("stripe")
    record = _old_recording("stripe", creds)
    old_header = record.header("Stripe-Signature") or ""
    try:
        stripe.Webhook.construct_event(record.body.decode(), old_header, secret, tolerance=300)
        raise AssertionError("stripe accepted a ten-minute-old signature")
    except stripe.SignatureVerificationError:
        pass
    fresh = resign(provider, to_delivery(provider, record), creds, time.time())
    event = stripe.Webhook.construct_event(fresh.body.decode(), fresh.header("Stripe-Signature"), secret, tolerance=300)
    assert event["id"] == to_delivery(provider, record).idempotency_keys[0]
    assert fresh.body == record.body


def test_slack_signature_verifier_accepts_the_replay() -> None:
    from slack_sdk.signature import SignatureVerifier

    creds = Credentials(secret="8f742231b10e8888abcd99yyyzzz85a5")
    provider = CATALOG.get("slack")
    record = _old_recording("slack", creds)
    verifier = SignatureVerifier(creds.secret or "")
    assert not verifier.is_valid_request(record.body, dict(record.headers))
    fresh = resign(provider, to_delivery(provider, record), creds, time.time())
    assert verifier.is_valid_request(fresh.body, dict(fresh.headers))


def test_standardwebhooks_accepts_the_replay_with_the_recorded_message_id() -> None:
    from standardwebhooks.webhooks import Webhook, WebhookVerificationError

    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    creds = Credentials(secret=secret)
    provider = CATALOG.get("standard")
    record = _old_recording("standard", creds)
    hook = Webhook(secret)
    try:
        hook.verify(record.body, dict(record.headers))
        raise AssertionError("standardwebhooks accepted a ten-minute-old signature")
    except WebhookVerificationError:
        pass
    fresh = resign(provider, to_delivery(provider, record), creds, time.time())
    hook.verify(fresh.body, dict(fresh.headers))
    assert fresh.header("webhook-id") == record.header("webhook-id")


def test_the_recorded_file_is_what_replay_reads(tmp_path: Path) -> None:
    from harness.recording import read_records

    record = _old_recording("stripe", Credentials(secret="whsec_c2VjcmV0"))
    path = tmp_path / "one.jsonl"
    path.write_text(record.to_line() + "\n")
    (again,) = read_records(path)
    assert again.body == record.body and dict(again.headers) == dict(record.headers)
