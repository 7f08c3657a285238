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


EXPECTED = {
    "accepts-pass-through": "skipped",  # the profile names no user-typed (pass-through) field
    "converges": "skipped",  # no state probe: lifecycles are not judged
    # provider-sends: every event type, unknown fields, redelivery, a rolled secret (any matching v1): 2xx.
    "accepts-valid": "passed",
    "verifies-raw-body": "passed",
    "accepts-rotated-secret": "passed",
    "accepts-unknown-fields": "passed",
    "redelivery-accepted": "passed",
    "no-server-error": "passed",
    "responds-in-time": "passed",
    # anyone-can-send: the quickstart re-raises SignatureVerificationError (and the ValueError of unsigned garbage),
    # so every forgery is answered 500: a crash before authenticating, which anyone can trigger.
    "rejects-missing-auth": "failed",
    "rejects-bad-auth": "failed",
    "rejects-tampered-body": "failed",
    "rejects-stale-timestamp": "failed",
    "rejects-malformed": "failed",
    # secret-holder-only: signed garbage re-raises construct_event's ValueError (500), schema-invalid events get 200.
    "handles-signed-malformed": "warned",
    "rejects-schema-violations": "warned",
    # not applicable: no probe given, no handshake, no reply format.
    "single-effect": "skipped",
    "handshake": "skipped",
    "reply-format": "skipped",
}


def test_stripe_quickstart_fails_exactly_the_anyone_can_send_checks() -> None:
    with InProcessTransport.for_wsgi(app) as transport:
        statuses, result = run("stripe", "http://testserver/webhook", transport, Credentials(secret=ENDPOINT_SECRET))
    assert statuses == EXPECTED, failures(result)
    assert result.exit_code == 1
    crash = next(o for o in result.outcomes if o.check == "rejects-missing-auth").violations[0]
    assert "server error" in crash.title and "verify the signature" in crash.hint
