"""A programmable in-memory receiver (GitHub and Stripe auth, written here independently) and a transport for it."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from harness.catalog import Provider, load_catalog
from harness.core.models import Delivery, Reply
from harness.credentials import Credentials
from harness.deliveries import event_type_of, idempotency_keys_of
from harness.engine.runner import RunConfig

CATALOG = load_catalog()
SECRET = "fake-secret-Zq8vN2pL"  # distinctive, so a leak into any output is easy to spot
STRIPE_SECRET = "whsec_fakeSecretQ4mT7kW9"

Handler = Callable[[Delivery], Reply]


class FakeTransport:
    """Hands every delivery to a function instead of the network; counts what it sent."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.sent: list[Delivery] = []
        self._lock = threading.Lock()

    def send(self, delivery: Delivery, url: str, *, timeout: float) -> Reply:
        """Call the handler."""
        with self._lock:
            self.sent.append(delivery)
        return self.handler(delivery)


class FakeReceiver:
    """A correct GitHub or Stripe receiver; each name in ``defects`` switches on one realistic bug."""

    def __init__(self, provider: str, *defects: str, auth_status: int = 401, elapsed: float = 0.01) -> None:
        self.provider: Provider = CATALOG.get(provider)
        self.secret = STRIPE_SECRET if provider == "stripe" else SECRET
        self.defects = set(defects)
        self.auth_status = auth_status
        self.elapsed = elapsed
        self.stored: Counter[str] = Counter()
        self._lock = threading.Lock()

    @property
    def credentials(self) -> Credentials:
        """What the harness should sign with."""
        return Credentials(secret=self.secret)

    def config(self, **kw: Any) -> RunConfig:
        """A run against this fake, seeded and small."""
        kw.setdefault("seed", 7)
        kw.setdefault("max_examples", 5)
        kw.setdefault("settle_timeout", 0.05)  # the fake stores synchronously: nothing to wait for
        kw.setdefault("transport", FakeTransport(self))
        return RunConfig(self.provider.id, "http://127.0.0.1:9/hook", self.credentials, catalog=CATALOG, **kw)

    def count(self, event_id: str) -> int:
        """The probe's answer."""
        with self._lock:
            return self.stored[event_id]

    def describe(self) -> str:
        """For messages."""
        return "the fake's store"

    def authentic(self, delivery: Delivery) -> bool:
        """Verify as the provider documents (or not, per the defects)."""
        if "skip-auth" in self.defects:
            return True
        name = "Stripe-Signature" if self.provider.id == "stripe" else "X-Hub-Signature-256"
        given = delivery.header(name)
        if given is None:
            return False
        if "presence-only" in self.defects:
            return True
        if self.provider.id == "github":
            digest = hmac.new(self.secret.encode(), delivery.body, hashlib.sha256).hexdigest()
            return hmac.compare_digest(
                given.encode(), f"sha256={digest}".encode()
            )  # bytes: a forged header may be any text
        pairs = [item.partition("=")[::2] for item in given.split(",")]
        stamp = next((value for name, value in pairs if name == "t"), "")
        if not stamp.isdigit():
            return False
        signed = stamp.encode() + b"." + delivery.body
        digest = hmac.new(self.secret.encode(), signed, hashlib.sha256).hexdigest()
        fresh = abs(time.time() - int(stamp)) <= 300 or "ignore-timestamp" in self.defects
        signatures = [value for name, value in pairs if name == "v1"]
        if "first-signature-only" in self.defects:
            signatures = signatures[:1]
        return fresh and any(hmac.compare_digest(value.encode(), digest.encode()) for value in signatures)

    def __call__(self, delivery: Delivery) -> Reply:
        """Handle one request."""
        if not self.authentic(delivery):
            return self.reply(self.auth_status, b'{"error": "unauthorized"}')
        if not (delivery.header("Content-Type") or "").startswith("application/json"):
            return self.reply(415)
        if len(delivery.body) > self.provider.body.max_bytes:
            return self.reply(413)
        try:
            payload: Any = json.loads(delivery.body)
        except ValueError:
            return self.reply(500 if "crash-on-malformed" in self.defects else 400, b"bad json")
        if not isinstance(payload, dict):
            return self.reply(400)
        event = event_type_of(self.provider, delivery.headers, payload)
        if event in self.defects:
            return self.reply(500, b"unhandled event type")
        if event is None:  # no type to read (a GitHub family's body without its action): as the reference receiver
            return self.reply(400, b"no event type")
        if event not in self.provider.events:
            return self.reply(400 if "strict-events" in self.defects else 202)
        if "no-validation" not in self.defects and self.provider.schema_errors(event, payload):
            return self.reply(400, b"invalid")
        with self._lock:
            for key in idempotency_keys_of(self.provider, delivery.headers, payload):
                if self.stored[key] and "duplicate-500" in self.defects:
                    return self.reply(500, b"unique constraint")
                if self.stored[key] and "no-dedupe" not in self.defects:
                    continue
                self.stored[key] += 1
        return self.reply(200, b"ok")

    def reply(self, status: int, body: bytes = b"") -> Reply:
        """A reply that took ``elapsed`` seconds (synthetic: no real waiting)."""
        return Reply(status, {"Content-Type": "text/plain"}, body, elapsed=self.elapsed)
