"""Bodies go out byte for byte as each provider sends them, so a re-serialising verifier is caught."""

from __future__ import annotations

import json
import time

import pytest
import stripe

from harness.catalog import load_catalog
from harness.checks.encoding import NON_ASCII_TEXT, survives_round_trip
from harness.credentials import Credentials
from harness.deliveries import build_delivery
from harness.signing import sign_delivery

CATALOG = load_catalog()


def test_stripe_bodies_are_pretty_printed_as_stripe_sends_them() -> None:
    provider = CATALOG.get("stripe")
    value = {"id": "evt_1", "data": {"object": {"metadata": {}, "tax_ids": [], "lines": [{"a": 1}]}}, "n": None}
    text = provider.encode(value).decode()
    assert text == (
        '{\n  "id": "evt_1",\n  "data": {\n    "object": {\n      "metadata": {\n      },\n      "tax_ids": [\n\n'
        '      ],\n      "lines": [\n        {\n          "a": 1\n        }\n      ]\n    }\n  },\n  "n": null\n}'
    )
    assert json.loads(text) == value and not survives_round_trip(text.encode())


def test_a_string_that_looks_like_an_empty_container_is_left_alone() -> None:
    provider = CATALOG.get("stripe")
    value = {"a": "{}", "b": ["[]", "x: {}"], "c": {"d": "{}"}}
    assert json.loads(provider.encode(value)) == value
    assert b'"a": "{}"' in provider.encode(value)


def test_non_ascii_text_is_raw_utf8_by_default_and_escaped_only_on_request() -> None:
    provider = CATALOG.get("github")
    assert NON_ASCII_TEXT.encode() in provider.encode({"zen": NON_ASCII_TEXT})
    assert provider.encode({"zen": NON_ASCII_TEXT}, ascii_only=True).isascii()


def test_the_official_stripe_library_verifies_a_pretty_printed_non_ascii_delivery() -> None:
    provider = CATALOG.get("stripe")
    secret = "whsec_byteExactTest9x"
    sample = json.loads(json.dumps(provider.events["customer.created"].samples[0]))
    sample["data"]["object"]["name"] = NON_ASCII_TEXT
    delivery = sign_delivery(provider, build_delivery(provider, sample), Credentials(secret=secret), now=time.time())
    assert NON_ASCII_TEXT.encode() in delivery.body and b"\n  " in delivery.body
    event = stripe.Webhook.construct_event(delivery.body.decode(), delivery.headers["Stripe-Signature"], secret)
    assert event["data"]["object"]["name"] == NON_ASCII_TEXT


@pytest.mark.parametrize("provider", [p.id for p in CATALOG])
def test_every_provider_profile_records_its_body_encoding(provider: str) -> None:
    assumptions = CATALOG.get(provider).assumptions
    assert "body.encoding" in assumptions
