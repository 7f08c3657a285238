"""Valid payloads and deliveries, for every event type of every provider in the catalog."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, find, given, seed, settings

from harness.catalog import builtin_schemas_dir, load_catalog
from harness.core.models import Delivery
from harness.core.pointers import resolve_pointer
from harness.deliveries import event_type_of
from harness.errors import UsageError
from harness.strategies import deliveries, event_types, payloads

CATALOG = load_catalog()
EVENTS = [(p.id, name) for p in CATALOG for name in p.events]
PROVIDERS = [p.id for p in CATALOG]
FAST = settings(max_examples=8, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
# Every event type of every provider (705) gets its own case: two examples each (Hypothesis' first is the smallest
# body, the second a random one) keep the folder fast; the per-provider tests below draw more across all types, and
# test_volume draws each type from the seeded generator too.
PER_TYPE = settings(FAST, max_examples=2)
NOW = 1_800_000_000.0


@pytest.mark.parametrize(("provider", "event"), EVENTS, ids=[f"{p.id}:{name}" for p in CATALOG for name in p.events])
def test_payloads_validate_against_their_schema(provider: str, event: str) -> None:
    prov = CATALOG.get(provider)

    @PER_TYPE
    @given(payloads(provider, event))
    def check(payload: Any) -> None:
        assert prov.schema_errors(event, payload) == []

    check()


@pytest.mark.parametrize("provider", PROVIDERS)
def test_any_event_payloads_are_ordinary_events(provider: str) -> None:
    prov = CATALOG.get(provider)

    @FAST
    @given(event_types(provider), payloads(prov))
    def check(name: str, payload: Any) -> None:
        assert name in prov.ordinary_events
        assert any(prov.validator(event).is_valid(payload) for event in prov.ordinary_events)  # stops at a mismatch

    check()


@pytest.mark.parametrize("provider", PROVIDERS)
def test_deliveries_are_what_the_provider_sends(provider: str) -> None:
    prov = CATALOG.get(provider)

    @FAST
    @given(deliveries(provider, now=NOW))
    def check(delivery: Delivery) -> None:
        assert delivery.method == prov.method and delivery.header("Content-Type") == prov.content_type
        assert delivery.label == "valid" and delivery.timestamp == int(NOW)
        for name in prov.headers:
            assert delivery.header(name) is not None, name
        assert delivery.body == prov.encode(delivery.payload)
        items = delivery.payload if prov.body.shape == "batch" else [delivery.payload]
        assert len(items) == len(delivery.event_types)
        for item, name in zip(items, delivery.event_types, strict=True):
            assert prov.schema_errors(name, item) == []
        assert event_type_of(prov, delivery.headers, delivery.payload) == delivery.event_types[0]
        key = prov.idempotency_key
        if key.where == "header":
            assert delivery.idempotency_keys == (delivery.header(key.name),)
        else:
            expected = tuple(str(resolve_pointer(item, key.pointer)) for item in items)
            assert delivery.idempotency_keys == expected
            assert len(set(expected)) == len(expected)  # a batch never repeats a key

    check()


def test_sendgrid_deliveries_are_compact_batches_ending_in_crlf() -> None:
    sizes = set()

    @settings(max_examples=40, deadline=None, database=None)
    @given(deliveries("sendgrid"))
    def check(delivery: Delivery) -> None:
        assert delivery.body.endswith(b"]\r\n") and delivery.body.startswith(b"[{")
        payload = json.loads(delivery.body)
        assert delivery.body == json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode() + b"\r\n"
        assert 1 <= len(payload) <= 300
        sizes.add(len(payload))

    check()
    assert len(sizes) > 1


def test_timestamps_are_near_now() -> None:
    @FAST
    @given(deliveries("sendgrid", now=NOW))
    def check(delivery: Delivery) -> None:
        for item in delivery.payload:
            assert NOW - 3600 <= item["timestamp"] <= NOW

    check()


def _collect(strategy: Any, count: int, at: int) -> list[Any]:
    out: list[Any] = []

    @settings(max_examples=count, database=None, deadline=None)
    @seed(at)
    @given(strategy)
    def collect(value: Any) -> None:
        out.append(value)

    collect()
    return out


def test_the_same_seed_gives_the_same_deliveries() -> None:
    first = [d.body for d in _collect(deliveries("stripe", now=NOW), 10, 3)]
    assert first == [d.body for d in _collect(deliveries("stripe", now=NOW), 10, 3)]
    assert first != [d.body for d in _collect(deliveries("stripe", now=NOW), 10, 4)]


def test_shrinks_to_required_fields() -> None:
    prov = CATALOG.get("sendgrid")
    smallest = find(payloads("sendgrid", "click"), lambda p: True)
    required = prov.event("click").schema["required"]
    assert set(smallest) == set(required)


def test_unknown_provider_or_event_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="Unknown provider"):
        payloads("nope")
    with pytest.raises(UsageError, match="Unknown event type"):
        payloads("github", "nope")
    with pytest.raises(UsageError, match="Unknown event type"):
        deliveries("github", "nope")


def test_a_users_catalog_is_honoured(tmp_path: Path) -> None:
    shutil.copytree(builtin_schemas_dir() / "standard", tmp_path / "acme")
    profile = tmp_path / "acme" / "profile.json"
    profile.write_text(profile.read_text().replace('"id": "standard"', '"id": "acme"'))
    catalog = load_catalog(schemas=tmp_path)
    acme = catalog.get("acme")

    @FAST
    @given(deliveries("acme", catalog=catalog))
    def check(delivery: Delivery) -> None:
        assert delivery.provider == "acme"
        assert acme.schema_errors(delivery.event_types[0], delivery.payload) == []

    check()
