"""Svix's verifier in FastAPI, as Svix's "Verifying payloads" docs show it (Standard Webhooks headers).

A correct receiver: it verifies before anything else and answers 400 to every forgery. It must exit 0.
"""

from __future__ import annotations

import base64

from fastapi import FastAPI, Request, Response, status
from svix.webhooks import Webhook, WebhookVerificationError

from harness.credentials import Credentials
from harness.transport.inprocess import InProcessTransport
from tests.interop._run import failures, run

secret = "whsec_" + base64.b64encode(b"interop-svix-fastapi-secret-32by").decode()
app = FastAPI()
received: list[object] = []


@app.post("/webhook/", status_code=status.HTTP_204_NO_CONTENT)
async def webhook_handler(request: Request, response: Response):  # type: ignore[no-untyped-def]
    headers = request.headers
    payload = await request.body()

    try:
        wh = Webhook(secret)
        msg = wh.verify(payload, headers)
    except WebhookVerificationError:
        response.status_code = status.HTTP_400_BAD_REQUEST
        return

    # Do something with the message...
    received.append(msg)


EXPECTED = {
    "accepts-pass-through": "skipped",  # the profile names no user-typed (pass-through) field
    "converges": "skipped",  # no state probe: lifecycles are not judged
    # provider-sends: every documented event type, unknown fields, redelivery, a rolled secret: 2xx.
    "accepts-valid": "passed",
    "verifies-raw-body": "passed",  # svix verifies the raw bytes it is given
    "accepts-rotated-secret": "passed",  # any matching v1 signature in webhook-signature is accepted
    "accepts-unknown-fields": "passed",
    "redelivery-accepted": "passed",
    "responds-in-time": "passed",
    # anyone-can-send: every forgery (missing, wrong key, fuzzed headers, tampered, stale) is verified first: 400.
    "rejects-missing-auth": "passed",
    "rejects-bad-auth": "passed",
    "rejects-tampered-body": "passed",
    "rejects-stale-timestamp": "passed",
    "no-server-error": "passed",
    "rejects-malformed": "passed",  # unsigned garbage: refused by the verifier
    # secret-holder-only: the docs handler never parses the body, so correctly signed garbage and schema-invalid
    # events get its 204; a 2xx to those is not a finding, and nothing crashes.
    "handles-signed-malformed": "passed",
    "rejects-schema-violations": "warned",
    # not applicable: no probe given, no handshake, no reply format.
    "single-effect": "skipped",
    "handshake": "skipped",
    "reply-format": "skipped",
}


def test_svix_docs_handler() -> None:
    with InProcessTransport.for_asgi(app) as transport:
        statuses, result = run("standard", "http://testserver/webhook/", transport, Credentials(secret=secret))
    assert statuses == EXPECTED, failures(result)
