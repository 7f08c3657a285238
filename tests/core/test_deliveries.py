"""Delivery headers: the generated ids are what the standard library would make from the same random bits."""

from __future__ import annotations

import random
import uuid

from harness.catalog import load_catalog
from harness.deliveries import HEADER_GENERATORS, HeaderContext, Rekeyer, build_delivery


def test_uuid4_headers_match_the_standard_librarys_formatting() -> None:
    provider = load_catalog().get("github")
    ours, theirs = random.Random(7), random.Random(7)
    ctx = HeaderContext(provider, (), ours, 0.0, {"generate": "uuid4"}, "")
    for _ in range(2000):
        value = HEADER_GENERATORS.get("uuid4")(ctx)
        assert value == str(uuid.UUID(int=theirs.getrandbits(128), version=4))
        assert uuid.UUID(value).version == 4 and uuid.UUID(value).variant == uuid.RFC_4122


def test_a_rekeyed_delivery_changes_only_its_key_header() -> None:
    provider = load_catalog().get("github")
    rng = random.Random(3)
    original = build_delivery(provider, {"zen": "x"}, event_types=["ping"], rng=rng)
    again = Rekeyer(provider)(original, rng)
    key = provider.idempotency_key.name
    assert again.header(key) != original.header(key) and again.idempotency_keys == (again.header(key),)
    assert {k: v for k, v in again.headers.items() if k != key} == {
        k: v for k, v in original.headers.items() if k != key
    }
    assert again.body == original.body
