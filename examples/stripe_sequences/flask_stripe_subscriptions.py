"""A Stripe subscription handler written the usual way: stripe's own verifier, then the status from each event.

``make_app()`` is the common, naive handler: it writes ``subscription.status`` from every event in arrival order.
``make_app(ordered=True)`` is the fix: it keeps the ``created`` time of the event it applied and ignores older ones,
and keeps cancelled subscriptions (a tombstone) instead of deleting them.
"""

from __future__ import annotations

from typing import Any

import stripe
from flask import Flask, Response, jsonify, request

SECRET = "whsec_sequences_example_secret"


def make_app(*, ordered: bool = False) -> Flask:
    """The handler and a test-only state endpoint over an in-memory table."""
    app = Flask(__name__)
    subscriptions: dict[str, dict[str, Any]] = {}

    @app.post("/webhooks/stripe")
    def webhook() -> tuple[str, int]:
        try:
            event = stripe.Webhook.construct_event(
                request.get_data(as_text=True), request.headers.get("Stripe-Signature", ""), SECRET
            )
        except (ValueError, stripe.SignatureVerificationError):
            return "", 400
        if event["type"].startswith("customer.subscription."):
            sub = event["data"]["object"]
            held = subscriptions.get(sub["id"])
            if ordered and held is not None and held["created"] >= event["created"]:
                return "", 200  # an older or repeated event: what we hold is newer
            subscriptions[sub["id"]] = {"status": sub["status"], "created": event["created"]}
        return "", 200

    @app.get("/state/<sub_id>")
    def state(sub_id: str) -> Response | tuple[str, int]:
        row = subscriptions.get(sub_id)
        return jsonify(status=row["status"]) if row else ("", 404)

    return app
