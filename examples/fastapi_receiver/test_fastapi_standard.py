"""The FastAPI Standard Webhooks handler, checked and fuzzed in-process through its ASGI app."""

from __future__ import annotations

import pytest
from fastapi_standard import SECRET, app
from hypothesis import HealthCheck, given, settings

from harness.catalog import load_catalog
from harness.core.models import Delivery
from harness.credentials import Credentials
from harness.runner import RunConfig, run_check
from harness.signing import sign_delivery
from harness.strategies import deliveries
from harness.transport.inprocess import InProcessTransport

URL = "http://testserver/webhooks/standard"
TRANSPORT = InProcessTransport.for_asgi(app)
CREDS = Credentials(secret=SECRET)
STANDARD = load_catalog().get("standard")


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
@given(deliveries("standard"))
def test_handler_acknowledges_every_signed_delivery(delivery: Delivery) -> None:
    reply = TRANSPORT.send(sign_delivery(STANDARD, delivery, CREDS), URL, timeout=10)
    assert reply.status == 204
