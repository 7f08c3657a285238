"""Run the harness's contract checks and a fuzzer against the Flask handler, in-process: no server needed."""

from __future__ import annotations

import pytest
from flask_github import SECRET, app, stored
from hypothesis import HealthCheck, given, settings

from harness import Credentials, Delivery, InProcessTransport, Probe, RunConfig, run_check, signed_deliveries

URL = "http://testserver/webhooks/github"
TRANSPORT = InProcessTransport.for_wsgi(app)
CREDS = Credentials(secret=SECRET)


class StoredProbe(Probe):
    """Counts what the handler stored, for the single-effect check (``harness.Probe``: count and describe)."""

    def count(self, event_id: str) -> int:
        return stored.get(event_id, 0)

    def describe(self) -> str:
        return "flask_github.stored"


@pytest.mark.parametrize(
    "check_id",
    [
        "accepts-valid",
        "rejects-missing-auth",
        "rejects-bad-auth",
        "rejects-tampered-body",
        "no-server-error",
        "accepts-unknown-fields",
        "redelivery-accepted",
        "single-effect",
        "responds-in-time",
    ],
)
def test_contract(check_id: str) -> None:
    config = RunConfig(
        provider="github", url=URL, credentials=CREDS, transport=TRANSPORT, probe=StoredProbe(), seed=1, max_examples=10
    )
    outcome = run_check(config, check_id)
    assert outcome.status == "passed", [str(v) for v in outcome.violations]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(signed_deliveries("github", CREDS, url=URL))
def test_handler_acknowledges_every_signed_delivery(delivery: Delivery) -> None:
    reply = TRANSPORT.send(delivery, URL, timeout=10)
    assert reply.status == 204


@pytest.mark.webhook("github", url=URL, credentials=CREDS, transport=TRANSPORT)
def test_with_the_webhook_fixture(webhook) -> None:  # type: ignore[no-untyped-def]
    assert webhook.send("push").status == 204
    assert webhook.send("push", variant="wrong-key").status == 401
    webhook.check("rejects-tampered-body")
