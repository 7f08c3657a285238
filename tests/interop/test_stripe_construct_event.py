"""Stripe's quickstart webhook handler (Flask), exactly as Stripe's "Build a webhook endpoint" page shows it.

The quickstart re-raises ``ValueError`` and ``SignatureVerificationError``: every forgery escapes as an exception, so
the server answers 500 to requests anyone can send. The harness must fail the auth checks (a 5xx to an
anyone-can-send request is a crash before authenticating) and nothing else.
"""

from __future__ import annotations

import stripe
from flask import Flask, jsonify, request

from harness.credentials import Credentials
from harness.transport.inprocess import InProcessTransport
from tests.interop._run import failures, run

ENDPOINT_SECRET = "whsec_interop_stripe_quickstart"
app = Flask(__name__)
seen: list[str] = []


@app.route("/webhook", methods=["POST"])
def webhook():  # type: ignore[no-untyped-def]
    event = None
    payload = request.data
    sig_header = request.headers.get("stripe-signature")

    try:
        event = stripe.Webhook.construct_event(payload, sig_header, ENDPOINT_SECRET)
    except ValueError as e:
        # Invalid payload
        raise e
    except stripe.SignatureVerificationError as e:
        # Invalid signature
        raise e

    # Handle the event
    if event["type"] == "payment_intent.succeeded":
        seen.append(event["data"]["object"]["id"])
    else:
        print(f"Unhandled event type {event['type']}")

    return jsonify(success=True)


def test_stripe_quickstart_fails_exactly_the_anyone_can_send_checks() -> None:
    with InProcessTransport.for_wsgi(app) as transport:
        statuses, result = run("stripe", "http://testserver/webhook", transport, Credentials(secret=ENDPOINT_SECRET))
    # What the provider sends (valid, unknown fields, redelivered, rotated-secret deliveries) gets a 2xx: passed.
    for check in ("accepts-valid", "accepts-unknown-fields", "redelivery-accepted", "accepts-rotated-secret"):
        assert statuses[check] == "passed", (check, failures(result))
    # Anyone can send these without the secret; the re-raised exceptions answer 500: a crash before authenticating.
    for check in ("rejects-missing-auth", "rejects-bad-auth", "rejects-tampered-body", "rejects-stale-timestamp"):
        assert statuses[check] == "failed", (check, failures(result))
    assert result.exit_code == 1
    print(statuses)
