"""The receiver accepts requests signed by the providers' own libraries (not by harness.signing), and PostgreSQL."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from harness.receiver import ReferenceReceiver
from tests.receiver._helpers import count, delivery, send, signed


def headers_for(rx: ReferenceReceiver, body: bytes, base: object, extra: dict[str, str]) -> dict[str, str]:
    """Signature headers made by the official library for ``rx.provider``."""
    secret = rx.credentials.secret or ""
    now = int(time.time())
    pid = rx.provider.id
    if pid == "github":
        from githubkit.webhooks import sign

        return {"X-Hub-Signature-256": sign(secret, body, "sha256")}
    if pid == "slack":
        from slack_sdk.signature import SignatureVerifier

        signature = SignatureVerifier(secret).generate_signature(timestamp=str(now), body=body)
        assert signature
        return {"X-Slack-Request-Timestamp": str(now), "X-Slack-Signature": signature}
    if pid == "standard":
        from standardwebhooks.webhooks import Webhook

        msg_id = extra["webhook-id"]
        signature = Webhook(secret).sign(msg_id, datetime.fromtimestamp(now, UTC), body.decode())
        return {"webhook-timestamp": str(now), "webhook-signature": signature}
    raise AssertionError(pid)


@pytest.mark.parametrize("provider", ["github", "slack", "standard"])
def test_official_library_signatures_are_accepted(provider: str) -> None:
    with ReferenceReceiver(provider) as rx:
        d = delivery(rx.provider, seed=31)
        d = d.with_headers(headers_for(rx, d.body, d.headers, dict(d.headers)))
        answer = send(rx, d)
        assert answer.status_code == 200, answer.text
        assert count(rx, d.idempotency_keys[0]) == 1


def test_stripe_signature_checked_by_stripe_python_is_accepted() -> None:
    import stripe

    with ReferenceReceiver("stripe") as rx:
        secret = rx.credentials.secret or ""
        d = delivery(rx.provider, seed=32)
        now = int(time.time())
        digest = hmac.new(secret.encode(), f"{now}.".encode() + d.body, hashlib.sha256).hexdigest()
        header = f"t={now},v1={digest}"
        assert stripe.WebhookSignature.verify_header(d.body, header, secret, tolerance=300)
        assert send(rx, d.with_headers({"Stripe-Signature": header})).status_code == 200


def test_sendgrid_signature_checked_by_sendgrid_python_is_accepted() -> None:
    from sendgrid.helpers.eventwebhook import EventWebhook

    with ReferenceReceiver("sendgrid") as rx:
        assert rx.credentials.signing_key and rx.public_key
        pem = Path(rx.credentials.signing_key).read_bytes()
        key = serialization.load_pem_private_key(pem, password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        d = signed(rx, delivery(rx.provider, seed=33))  # for the OAuth bearer token
        stamp = str(int(time.time()))
        signature = base64.b64encode(key.sign(stamp.encode() + d.body, ec.ECDSA(hashes.SHA256()))).decode()
        assert EventWebhook(rx.public_key).verify_signature(d.body.decode(), signature, stamp)
        headers = {
            "X-Twilio-Email-Event-Webhook-Signature": signature,
            "X-Twilio-Email-Event-Webhook-Timestamp": stamp,
        }
        assert send(rx, d.with_headers(headers)).status_code == 200


def test_teams_hmac_keyed_by_the_decoded_token_is_accepted() -> None:
    with ReferenceReceiver("teams") as rx:
        d = delivery(rx.provider, seed=34)
        key = base64.b64decode(rx.credentials.secret or "")
        mac = base64.b64encode(hmac.new(key, d.body, hashlib.sha256).digest()).decode()
        assert send(rx, d.with_headers({"Authorization": f"HMAC {mac}"})).status_code == 200
        raw = base64.b64encode(hmac.new((rx.credentials.secret or "").encode(), d.body, hashlib.sha256).digest())
        other = delivery(rx.provider, seed=35)
        assert send(rx, other.with_headers({"Authorization": f"HMAC {raw.decode()}"})).status_code == 401


@pytest.mark.postgres
def test_postgres_storage_dedupes_and_cleans_up() -> None:
    url = os.environ.get("WEBHOOK_HARNESS_TEST_PG_URL")
    assert url, "WEBHOOK_HARNESS_TEST_PG_URL is unset: run the suite through `make test` (scripts/with-postgres)"
    from sqlalchemy import create_engine, inspect, text

    with ReferenceReceiver("sendgrid", db_url=url) as rx:
        d = signed(rx, delivery(rx.provider))
        assert send(rx, d).status_code == 200 and send(rx, d).status_code == 200
        assert count(rx, d.idempotency_keys[0]) == 1
        engine = create_engine(url)
        try:
            with engine.connect() as conn:
                assert conn.execute(text(rx.probe_sql), {"event_id": d.idempotency_keys[0]}).scalar_one() == 1
            table = rx.probe_sql.split(" FROM ")[1].split()[0]
        finally:
            engine.dispose()
    engine = create_engine(url)
    try:
        assert table not in inspect(engine).get_table_names()
    finally:
        engine.dispose()
    with ReferenceReceiver("sendgrid", db_url=url, bug="stores-duplicates") as rx:
        d = signed(rx, delivery(rx.provider, seed=2))
        send(rx, d)
        send(rx, d)
        assert count(rx, d.idempotency_keys[0]) == 2
