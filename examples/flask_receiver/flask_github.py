"""A small Flask receiver for GitHub webhooks: verifies X-Hub-Signature-256, stores each delivery once."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import threading

from flask import Flask, abort, request

SECRET = os.environ.get("GITHUB_WEBHOOK_SECRET", "example-github-secret")
REQUIRED = {"push": ("ref", "repository"), "pull_request": ("action", "pull_request"), "issues": ("action", "issue")}

app = Flask(__name__)
stored: dict[str, int] = {}
_lock = threading.Lock()


@app.post("/webhooks/github")
def github() -> tuple[str, int]:
    """Verify, parse, de-duplicate on X-GitHub-Delivery, then acknowledge."""
    body = request.get_data()
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    given = request.headers.get("X-Hub-Signature-256", "").encode()  # bytes: a forged header may be any text
    if not hmac.compare_digest(given, expected.encode()):
        abort(401)
    try:
        payload = json.loads(body)
    except ValueError:
        abort(400)
    event = request.headers.get("X-GitHub-Event", "")
    delivery_id = request.headers.get("X-GitHub-Delivery", "")
    if not isinstance(payload, dict) or not delivery_id:
        abort(400)
    if any(not isinstance(payload.get(field), str | dict) for field in REQUIRED.get(event, ())):
        abort(400)
    with _lock:
        stored.setdefault(delivery_id, 1)
    return "", 204
