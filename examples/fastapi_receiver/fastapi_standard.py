"""A small FastAPI receiver for Standard Webhooks: verifies webhook-signature, rejects stale timestamps."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time

from fastapi import FastAPI, HTTPException, Request, Response

SECRET = os.environ.get("STANDARD_WEBHOOK_SECRET", "whsec_" + base64.b64encode(b"example-standard-secret").decode())
TOLERANCE = 5 * 60

app = FastAPI()
stored: dict[str, int] = {}


def _verify(msg_id: str, timestamp: str, body: bytes, signatures: str) -> bool:
    key = base64.b64decode(SECRET.removeprefix("whsec_"))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    candidates = [part.partition(",")[2] for part in signatures.split() if part.startswith("v1,")]
    # bytes, not str: compare_digest raises on a non-ASCII str, and anyone can send one in a header
    return any(hmac.compare_digest(expected.encode(), candidate.encode()) for candidate in candidates)


@app.post("/webhooks/standard")
async def standard(request: Request) -> Response:
    """Verify the signature and timestamp, parse, store each webhook-id once."""
    body = await request.body()
    msg_id = request.headers.get("webhook-id", "")
    timestamp = request.headers.get("webhook-timestamp", "")
    signature = request.headers.get("webhook-signature", "")
    if not (msg_id and timestamp.isdigit() and signature) or not _verify(msg_id, timestamp, body, signature):
        raise HTTPException(status_code=401, detail="bad signature")
    if abs(time.time() - int(timestamp)) > TOLERANCE:
        raise HTTPException(status_code=401, detail="stale timestamp")
    try:
        payload = json.loads(body)
    except ValueError:
        raise HTTPException(status_code=400, detail="malformed JSON") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("type"), str):
        raise HTTPException(status_code=400, detail="missing type")
    if not isinstance(payload.get("timestamp"), str) or not isinstance(payload.get("data"), dict):
        raise HTTPException(status_code=400, detail="missing timestamp or data")
    stored.setdefault(msg_id, 1)
    return Response(status_code=204)
