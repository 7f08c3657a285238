"""`webhook-harness sequences` against a Stripe handler built on stripe's library, in-process: the naive handler
(last event to arrive wins) fails with a three-delivery timeline; the version-checking one converges."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_stripe_subscriptions import SECRET, make_app

from harness import Credentials, InProcessTransport, load_catalog
from harness.sequences import SequenceOptions, SequenceRunner, render_failure

URL = "http://testserver/webhooks/stripe"
STRIPE = load_catalog().get("stripe")


class FlaskStateProbe:
    """The handler's /state endpoint, read through Flask's test client."""

    def __init__(self, app: Flask) -> None:
        self.client = app.test_client()

    def view(self, object_id: str) -> Any:
        reply = self.client.get(f"/state/{object_id}")
        return reply.get_json() if reply.status_code == 200 else None

    def describe(self) -> str:
        return "GET /state/{object_id} (Flask test client)"


def _run(app: Flask) -> Any:
    options = SequenceOptions(max_examples=15, seed=2, settle_timeout=0.1, concurrency=1)
    transport = InProcessTransport.for_wsgi(app)
    with SequenceRunner(STRIPE, URL, Credentials(secret=SECRET), transport, FlaskStateProbe(app), options) as runner:
        return runner.run(STRIPE.lifecycle("subscription"))


def test_the_naive_handler_fails_with_a_short_readable_timeline() -> None:
    result = _run(make_app())
    assert not result.passed and len(result.failure.sent) == 3
    text = render_failure(result, 2, "GET /state/{object_id}")
    assert "customer.subscription.deleted" in text and 'Expected state: {"status": "canceled"}' in text
    assert "HTTP 200" in text  # every delivery was acknowledged: only the final state is wrong


def test_the_handler_that_compares_event_times_converges() -> None:
    result = _run(make_app(ordered=True))
    assert result.passed, result.failure and result.failure.reason
