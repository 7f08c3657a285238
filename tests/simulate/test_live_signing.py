"""The live simulator's deliveries are exactly what signing each one gives, whether or not it reuses a signature."""

from __future__ import annotations

import itertools

import pytest

from harness.credentials import Credentials
from harness.signing import sign_delivery
from harness.simulate import SimConfig
from harness.simulate.engine import DeliveryFactory, build_workload
from tests.simulate._helpers import CATALOG

SECRET = Credentials(secret="whsec_c2VjcmV0c2VjcmV0c2VjcmV0")


@pytest.mark.parametrize(("provider_id", "body_only"), [("github", True), ("shopify", True), ("standard", False)])
def test_each_first_attempt_is_what_signing_it_gives(provider_id: str, body_only: bool) -> None:
    provider = CATALOG.get(provider_id)
    ticks = itertools.count(1_700_000_000, 7)  # every signature made at another second
    seen: list[float] = []
    config = SimConfig(
        provider, event_count=90, url="http://127.0.0.1:1/hook", credentials=SECRET, dry_run=False, seed=4
    )
    config.clock = lambda: seen.append(float(next(ticks))) or seen[-1]
    factory = DeliveryFactory(config, config.retry_policy, build_workload(config))
    for uid in range(90):  # past the 64 generated bodies: the rest are re-keyed copies of them
        got = factory.attempt(uid, 1)
        # what signing gives at the second the factory last read (a reused signature has no time in it)
        expected = sign_delivery(provider, factory.base(uid), SECRET, now=seen[-1], url=config.url)
        assert got == expected and list(got.headers.items()) == list(expected.headers.items())
        assert got.body == factory.base(uid).body and got.idempotency_keys == factory.base(uid).idempotency_keys
    # GitHub's and Shopify's HMAC cover the body alone: reused; Standard Webhooks signs its id and time: never
    assert factory.body_only is body_only
    assert bool(factory.signatures) is body_only
