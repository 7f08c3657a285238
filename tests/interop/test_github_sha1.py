"""github-webhook (bloomberg/python-github-webhook), a Flask micro-framework that verifies GitHub's legacy SHA-1
``X-Hub-Signature``, set up as its README shows.
"""

from __future__ import annotations

from flask import Flask
from github_webhook import Webhook

from harness.core.models import Delivery, Reply
from harness.credentials import Credentials
from harness.transport.inprocess import InProcessTransport
from tests.interop._run import failures, run

SECRET = "interop-github-webhook-secret"
app = Flask(__name__)  # Standard Flask app
webhook = Webhook(app, secret=SECRET)  # Defines '/postreceive' endpoint
pushes: list[str] = []


@webhook.hook()  # Defines a handler for the 'push' event
def on_push(data):  # type: ignore[no-untyped-def]
    pushes.append(data["ref"])


EXPECTED = {
    "accepts-pass-through": "passed",  # NUL, emoji, RTL marks, 10 KB and 2^53+1 in user-typed fields: 2xx
    "converges": "skipped",  # no state probe: lifecycles are not judged
    # provider-sends: GitHub sends X-Hub-Signature (SHA-1) beside X-Hub-Signature-256, so this SHA-1-only
    # verifier accepts every event type, unknown fields and redeliveries.
    "accepts-valid": "passed",
    "verifies-raw-body": "passed",
    "accepts-unknown-fields": "passed",
    "redelivery-accepted": "passed",
    "no-server-error": "passed",
    "responds-in-time": "passed",
    # anyone-can-send: every forgery forges the SHA-1 header too, and is refused with 400 ...
    "rejects-missing-auth": "passed",
    "rejects-tampered-body": "passed",
    "rejects-malformed": "passed",
    # ... except a non-ASCII signature header: hmac.compare_digest raises TypeError on a non-ASCII str, so anyone
    # can make it answer 500 before authenticating. A real defect of the library.
    "rejects-bad-auth": "failed",
    # secret-holder-only: a signed JSON array crashes its event-description formatting (500); schema-invalid
    # events get 204. Hygiene: warnings.
    "handles-signed-malformed": "warned",
    "rejects-schema-violations": "warned",
    # not applicable: GitHub signs no timestamp and one secret; no probe, handshake or reply format.
    "accepts-rotated-secret": "skipped",
    "rejects-stale-timestamp": "skipped",
    "single-effect": "skipped",
    "handshake": "skipped",
    "reply-format": "skipped",
}


def test_github_webhook_sha1_verifier() -> None:
    with InProcessTransport.for_wsgi(app) as transport:
        statuses, result = run("github", "http://testserver/postreceive", transport, Credentials(secret=SECRET))
    assert statuses == EXPECTED, failures(result)
    (finding,) = next(o for o in result.outcomes if o.check == "rejects-bad-auth").violations
    assert "non-ASCII" in finding.title and "server error" in finding.title


def test_form_encoded_deliveries_show_that_the_library_breaks_on_them() -> None:
    """With --content-type form (the hook's form setting), valid deliveries are payload=<json>, signed over those
    bytes. The library reads request.form["payload"], but it computes the HMAC over request.data, which Flask leaves
    empty for a form body: every real form delivery is refused as "Invalid signature". A real defect, invisible
    until the harness sent what GitHub sends in that setting."""
    sent: list[Delivery] = []
    with InProcessTransport.for_wsgi(app) as inner:

        class Recording:
            def send(self, delivery: Delivery, url: str, *, timeout: float) -> Reply:
                sent.append(delivery)
                return inner.send(delivery, url, timeout=timeout)

        statuses, result = run(
            "github",
            "http://testserver/postreceive",
            Recording(),  # type: ignore[arg-type]
            Credentials(secret=SECRET),
            content_type="form",
            checks=["accepts-valid", "rejects-tampered-body", "redelivery-accepted"],
        )
    assert statuses == {"accepts-valid": "failed", "rejects-tampered-body": "blocked", "redelivery-accepted": "blocked"}
    assert all("Invalid signature" in v.received for o in result.outcomes for v in o.violations)
    valid = [d for d in sent if d.label == "valid"]
    assert valid and all(d.body.startswith(b"payload=%7B") for d in valid)
    assert all(d.header("Content-Type") == "application/x-www-form-urlencoded" for d in valid)
