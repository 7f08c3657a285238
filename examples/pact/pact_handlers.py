"""Real webhook handlers, the consumer's side of a pact: each verifies the provider's signature with the provider's
own library (or its documented recipe), then reads only the fields the pact guarantees."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

import stripe
from sendgrid.helpers.eventwebhook import EventWebhook
from sendgrid.helpers.eventwebhook.eventwebhook_header import EventWebhookHeader


class Rejected(Exception):
    """The handler refused the message (a receiver would answer 4xx)."""


def _header(headers: Mapping[str, str], name: str) -> str:
    return next((v for k, v in headers.items() if k.lower() == name.lower()), "")


def handle_stripe(body: bytes, headers: Mapping[str, str], secret: str) -> dict[str, Any]:
    """Stripe: ``stripe.Webhook.construct_event`` verifies Stripe-Signature; an invoice's id and amount are booked."""
    try:
        event = stripe.Webhook.construct_event(body.decode(), _header(headers, "Stripe-Signature"), secret)
    except (ValueError, stripe.SignatureVerificationError) as exc:
        raise Rejected(str(exc)) from None
    obj = event["data"]["object"]
    booked = {"event": event["type"], "id": obj["id"] if "id" in obj else None}  # optional: upcoming invoices have none
    if event["type"].startswith("invoice."):
        booked["amount_paid"] = obj["amount_paid"]
    return booked


def handle_github(body: bytes, headers: Mapping[str, str], secret: str) -> dict[str, Any]:
    """GitHub: X-Hub-Signature-256 checked as GitHub documents; the repository of each event is noted."""
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(_header(headers, "X-Hub-Signature-256"), expected):
        raise Rejected("bad X-Hub-Signature-256")
    event = _header(headers, "X-GitHub-Event")
    payload = json.loads(body)
    if event == "ping":
        return {"event": event, "hook": payload.get("hook_id")}  # optional in GitHub's description
    return {"event": event, "repository": payload["repository"]["full_name"]}


def handle_sendgrid(body: bytes, headers: Mapping[str, str], public_key: str) -> list[dict[str, Any]]:
    """SendGrid: sendgrid's ``EventWebhook`` verifies the ECDSA signature; each event's type and address are noted."""
    hook = EventWebhook(public_key)
    signature = _header(headers, EventWebhookHeader.SIGNATURE)
    stamp = _header(headers, EventWebhookHeader.TIMESTAMP)
    if not hook.verify_signature(body.decode(), signature, stamp):
        raise Rejected("bad SendGrid signature")
    return [{"event": item["event"], "email": item["email"]} for item in json.loads(body)]
