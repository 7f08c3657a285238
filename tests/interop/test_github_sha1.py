"""github-webhook (bloomberg/python-github-webhook), a Flask micro-framework that verifies GitHub's legacy SHA-1
``X-Hub-Signature``, set up as its README shows.
"""

from __future__ import annotations

from flask import Flask
from github_webhook import Webhook

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


def test_github_webhook_sha1_verifier() -> None:
    with InProcessTransport.for_wsgi(app) as transport:
        statuses, result = run("github", "http://testserver/postreceive", transport, Credentials(secret=SECRET))
    print(statuses, failures(result))
