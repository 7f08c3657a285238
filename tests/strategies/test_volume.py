"""The volume generator: valid, seeded, fast enough for the simulator."""

from __future__ import annotations

import pytest

from harness.catalog import load_catalog
from harness.core.regexgen import regex_generator
from harness.volume import VolumeGenerator

CATALOG = load_catalog()


@pytest.mark.parametrize("provider", [p.id for p in CATALOG])
def test_every_payload_validates(provider: str) -> None:
    prov = CATALOG.get(provider)
    gen = VolumeGenerator(prov, seed=3)
    for event in prov.ordinary_events:
        for _ in range(60):
            payload = gen.payload(event, now=1_700_000_000)
            assert prov.schema_errors(event, payload) == []


def test_same_seed_same_payloads() -> None:
    first = list(VolumeGenerator("sendgrid", seed=9).events(50, now=1_700_000_000))
    second = list(VolumeGenerator("sendgrid", seed=9).events(50, now=1_700_000_000))
    third = list(VolumeGenerator("sendgrid", seed=10).events(50, now=1_700_000_000))
    assert first == second != third


def test_deliveries_batch_for_sendgrid() -> None:
    deliveries = list(VolumeGenerator("sendgrid", seed=1).deliveries(3, batch_size=4))
    assert all(len(d.idempotency_keys) == 4 and d.body.endswith(b"\r\n") for d in deliveries)


@pytest.mark.parametrize(
    "pattern", [r"^[A-Za-z0-9_-]{22}$", r"^(all|[A-Z]{3}-AD-[1-3])$", r"^x(ab|cd)*y?$", r"^[^a-z]{3}$"]
)
def test_regex_generator_fully_matches(pattern: str) -> None:
    import random
    import re

    gen, rng = regex_generator(pattern), random.Random(0)
    for _ in range(200):
        assert re.fullmatch(pattern.strip("^$"), gen(rng))
