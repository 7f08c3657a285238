"""The FastAPI Standard Webhooks handler, checked and fuzzed in-process through its ASGI app."""

from __future__ import annotations

import pytest
from fastapi_standard import SECRET, app
from hypothesis import HealthCheck, given, settings

from harness import Credentials, Delivery, InProcessTransport, RunConfig, run_check, signed_deliveries

URL = "http://testserver/webhooks/standard"
TRANSPORT = InProcessTransport.for_asgi(app)
CREDS = Credentials(secret=SECRET)


@pytest.mark.parametrize(
    "check_id",
    [
        "accepts-valid",
        "rejects-missing-auth",
        "rejects-bad-auth",
        "rejects-tampered-body",
        "rejects-stale-timestamp",
        "no-server-error",
        "accepts-unknown-fields",
        "redelivery-accepted",
        "responds-in-time",
    ],
)
def test_contract(check_id: str) -> None:
    config = RunConfig(provider="standard", url=URL, credentials=CREDS, transport=TRANSPORT, seed=3, max_examples=10)
    outcome = run_check(config, check_id)
    assert outcome.status == "passed", [str(v) for v in outcome.violations]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(signed_deliveries("standard", CREDS, url=URL))
def test_handler_acknowledges_every_signed_delivery(delivery: Delivery) -> None:
    reply = TRANSPORT.send(delivery, URL, timeout=10)
    assert reply.status == 204
