"""The live simulator's CPU savings change nothing it sends: signatures reused only where exact, collector restored."""

from __future__ import annotations

import gc
import itertools
import socket

import pytest

from harness.core.collector import YOUNG
from harness.credentials import Credentials
from harness.signing import sign_delivery
from harness.simulate import SimConfig, engine, run_simulation
from harness.simulate.engine import DeliveryFactory, build_workload
from harness.transport.aio import AioTransport
from tests.simulate._helpers import CATALOG

SECRET = Credentials(secret="whsec_c2VjcmV0c2VjcmV0c2VjcmV0")


@pytest.mark.parametrize(("provider_id", "body_only"), [("github", True), ("shopify", True), ("standard", False)])
def test_each_first_attempt_is_what_signing_it_gives(
    provider_id: str, body_only: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine, "_BODIES", 4)  # 4 generated bodies, then re-keyed copies of them
    provider = CATALOG.get(provider_id)
    ticks = itertools.count(1_700_000_000, 7)  # every signature made at another second
    seen: list[float] = []
    config = SimConfig(
        provider, event_count=12, url="http://127.0.0.1:1/hook", credentials=SECRET, dry_run=False, seed=4
    )
    config.clock = lambda: seen.append(float(next(ticks))) or seen[-1]
    factory = DeliveryFactory(config, config.retry_policy, build_workload(config))
    for uid in range(12):
        got = factory.attempt(uid, 1)
        # what signing gives at the second the factory last read (a reused signature has no time in it)
        expected = sign_delivery(provider, factory.base(uid), SECRET, now=seen[-1], url=config.url)
        assert got == expected and list(got.headers.items()) == list(expected.headers.items())
        assert got.body == factory.base(uid).body and got.idempotency_keys == factory.base(uid).idempotency_keys
    # GitHub's and Shopify's HMAC cover the body alone: reused; Standard Webhooks signs its id and time: never
    assert factory.body_only is body_only
    assert bool(factory.signatures) is body_only


def test_a_live_run_collects_the_young_generation_less_often_and_restores_the_thresholds() -> None:
    with socket.socket() as closed:  # a port nothing listens on: every attempt is refused at once
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    before = gc.get_threshold()
    seen: list[tuple[int, ...]] = []
    config = SimConfig(
        CATALOG.get("github"), event_count=3, url=f"http://127.0.0.1:{port}/hook", credentials=SECRET, dry_run=False
    )
    config.progress = lambda _done, _horizon: seen.append(gc.get_threshold())
    with AioTransport(concurrency=2) as transport:
        result = run_simulation(config, transport=transport)
    assert result.requests == 3 and result.delivered == 0
    assert seen and seen[0][0] == max(YOUNG, before[0]) and seen[0][1:] == before[1:]
    assert gc.get_threshold() == before
