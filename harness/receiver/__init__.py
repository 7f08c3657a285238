"""The reference receiver: a correct receiver for every provider, plus deliberate bugs that the checks must catch.

Correct behaviour: verify auth exactly as the provider documents it (raw body, constant-time compares, the
documented timestamp tolerance), answer 401 without valid auth, 413 over the provider's body cap, 415 for another
content type, 400 for bodies that are not JSON or fail the schema of a known event type; accept unknown event types
and unknown fields (stored like any event, keyed by their idempotency key); store each key once (race-free
INSERT ... ON CONFLICT DO NOTHING) and answer 2xx to duplicates; honour Slack's and OCI's handshakes; reply with a
Teams message; serve ``GET /probe/{event_id}`` and, with OAuth, an ORDS-style token endpoint.

Modes (all correct): ``strict`` validates every event against its schema; ``lenient`` is a tolerant reader (strict
JSON and shape, no schema validation); ``queue-first`` answers 2xx at once and stores a moment later.
"""

from __future__ import annotations

from harness.receiver import _bugs, _server
from harness.receiver._bugs import *  # noqa: F403
from harness.receiver._handshake import (
    challenge_of,
    confirm_subscription,
    confirmation_url,
    early_handshake,
    handshake_answer,
    is_handshake,
    loopback_only,
)
from harness.receiver._server import *  # noqa: F403
from harness.receiver._state import ORDERING_BUGS, OrderingBug

__all__ = [
    *_bugs.__all__,
    *_server.__all__,
    "ORDERING_BUGS",
    "OrderingBug",
    "confirm_subscription",
    "confirmation_url",
    "challenge_of",
    "early_handshake",
    "handshake_answer",
    "is_handshake",
    "loopback_only",
]
