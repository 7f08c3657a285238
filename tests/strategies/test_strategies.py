"""The public strategies make what they promise, for every event type of every provider."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.catalog import load_catalog
from harness.core.models import Delivery
from harness.deliveries import event_type_of
from harness.strategies import (
    NOVEL_EVENT,
    InvalidPayload,
    MalformedBody,
    deliveries,
    invalid_payloads,
    malformed_bodies,
    novel_deliveries,
    payloads,
)

CATALOG = load_catalog()
EVENTS = [(p.id, name) for p in CATALOG for name in p.events]
PROVIDERS = [p.id for p in CATALOG]
FAST = settings(max_examples=6, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
# One case per event type (705): its smallest delivery (Hypothesis' first example), so every type's delivery is
# built and checked; test_payloads draws a random body of every type, the per-provider tests many.
PER_TYPE = settings(FAST, max_examples=1)
NOW = 1_800_000_000.0


@pytest.mark.parametrize(("provider", "event"), EVENTS, ids=[f"{p.id}:{name}" for p in CATALOG for name in p.events])
def test_deliveries_of_each_event_type_carry_it_and_validate(provider: str, event: str) -> None:
    """``deliveries(provider, event)`` for every type (test_payloads covers ``payloads`` the same way)."""
    prov = CATALOG.get(provider)

    @PER_TYPE
    @given(deliveries(prov, event, now=NOW))
    def check(delivery: Delivery) -> None:
        value = prov.decode(delivery.body)
        items = value if prov.body.shape == "batch" else [value]
        assert set(delivery.event_types) == {event}
        for item in items:
            assert prov.schema_errors(event, item) == []
        if event in prov.ordinary_events:  # a handshake message (Slack's url_verification) names no event type
            assert event_type_of(prov, delivery.headers, value) == event

    check()


@pytest.mark.parametrize("provider", PROVIDERS)
def test_deliveries_are_what_the_provider_sends(provider: str) -> None:
    prov = CATALOG.get(provider)

    @FAST
    @given(deliveries(provider))
    def check(delivery: Delivery) -> None:
        assert delivery.header("Content-Type") == prov.content_type
        body = delivery.body.decode()
        assert body.endswith(prov.body.suffix)
        value = prov.decode(delivery.body)  # JSON, or a form's parameters (Twilio)
        items = value if prov.body.shape == "batch" else [value]
        assert len(delivery.idempotency_keys) == (len(items) if prov.idempotency_key.per_event else 1)
        for item, name in zip(items, delivery.event_types, strict=True):
            assert prov.schema_errors(name, item) == []
        assert event_type_of(prov, delivery.headers, value) == delivery.event_types[0]

    check()


def test_sendgrid_batches_are_compact_arrays_ending_in_crlf() -> None:
    @FAST
    @given(deliveries("sendgrid"))
    def check(delivery: Delivery) -> None:
        assert delivery.body.startswith(b"[{") and delivery.body.endswith(b"}]\r\n")
        assert b", " not in delivery.body.split(b'"')[0]

    check()


@pytest.mark.parametrize("provider", PROVIDERS)
def test_invalid_payloads_fail_their_schema(provider: str) -> None:
    prov = CATALOG.get(provider)

    @FAST
    @given(invalid_payloads(provider))
    def check(bad: InvalidPayload) -> None:
        assert prov.schema_errors(bad.event, bad.payload)
        assert bad.reason

    check()


@pytest.mark.parametrize("provider", PROVIDERS)
def test_malformed_bodies_are_not_valid_deliveries(provider: str) -> None:
    prov = CATALOG.get(provider)

    @FAST
    @given(malformed_bodies(provider))
    def check(bad: MalformedBody) -> None:
        if "cap" in bad.reason:
            assert len(bad.body) > prov.body.max_bytes
        elif bad.content_type != prov.content_type:
            assert "form" in bad.content_type
        else:
            with pytest.raises(ValueError):
                json.loads(bad.body)

    check()


@pytest.mark.parametrize("provider", PROVIDERS)
def test_novel_deliveries_are_still_valid(provider: str) -> None:
    prov = CATALOG.get(provider)

    @FAST
    @given(novel_deliveries(provider))
    def check(delivery: Delivery) -> None:
        value = prov.decode(delivery.body)
        items = value if prov.body.shape == "batch" else [value]
        if delivery.label == "unknown-event-type":
            novel = str(prov.event_type_value(NOVEL_EVENT))  # a new integer where types are integers (Discord)
            assert event_type_of(prov, delivery.headers, value) == novel
        else:
            for item, name in zip(items, delivery.event_types, strict=True):
                assert prov.schema_errors(name, item) == []
            assert any(k.startswith("x_harness_") for k in items[0])

    check()


def test_strategies_compose_with_given_and_shrink() -> None:
    """A property that fails for some SendGrid event shrinks to a small example."""
    from hypothesis import find

    found = find(payloads("sendgrid", "click"), lambda p: len(p.get("url", "")) > 0)
    assert found["event"] == "click"


def test_unknown_provider_is_a_usage_error() -> None:
    from harness.errors import UsageError

    with pytest.raises(UsageError, match="Unknown provider"):
        payloads("nope")
    with pytest.raises(UsageError, match="Unknown event type"):
        st.one_of(payloads("github", "nope")).example()
