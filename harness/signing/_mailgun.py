"""Mailgun's signature inside the JSON body: ``signature: {timestamp, token, signature}`` beside ``event-data``.

``signature`` is hex HMAC-SHA256 of ``timestamp + token`` keyed with the webhook signing key. It does not cover
``event-data``, so a captured signature object can be replayed with any body: a receiver must remember the tokens
it has accepted (the reference receiver does) and refuse a token it has seen with another body. This is code, not
an ``auth.hmac`` description: the signature is written into the body it does not sign, and the token cache is state.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections import OrderedDict
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from harness.catalog import Provider
from harness.core.models import Delivery
from harness.credentials import Credentials
from harness.signing._base import SigningScheme, timestamp_fuzz
from harness.signing._verifier import Headers, Verifier, parse_int

__all__ = ["BODY_SIGNATURE", "BODY_TIMESTAMP", "BODY_TOKEN", "MailgunBody"]

FIELD = "signature"  # the body's member that carries the signature object
# The signature object's fields as the receiver's view of a request shows them. No HTTP header can have these names
# (a space and parentheses are not token characters), so a real header is never mistaken for one.
BODY_SIGNATURE, BODY_TIMESTAMP, BODY_TOKEN = "(body) signature", "(body) timestamp", "(body) token"
TOKEN_CACHE = 100_000  # tokens the receiver remembers (Mailgun's replay protection), oldest dropped first


def _load(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None


def _fields(body: bytes) -> dict[str, str]:
    """The signature object's fields as text, from a body that may be anything."""
    value = _load(body)
    sig = value.get(FIELD) if isinstance(value, dict) else None
    if not isinstance(sig, dict):
        return {}
    out = {}
    for name, key in ((BODY_SIGNATURE, "signature"), (BODY_TIMESTAMP, "timestamp"), (BODY_TOKEN, "token")):
        item = sig.get(key)
        if isinstance(item, int) and not isinstance(item, bool):
            item = str(item)
        if isinstance(item, str):
            out[name] = item
    return out


def signature_of(key: str, timestamp: str, token: str) -> str:
    """Hex HMAC-SHA256 of ``timestamp + token`` with the signing key, as Mailgun computes it."""
    return hmac.new(key.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()


class MailgunBody(SigningScheme):
    """Signs by writing a fresh signature object (new token each time) at the front of the JSON body."""

    name = "mailgun"
    headers = (BODY_SIGNATURE, BODY_TIMESTAMP, BODY_TOKEN)
    timestamped = True
    signs_body = False
    auth_in_body = True
    lax_steps = frozenset({"replay"})

    def _with(self, provider: Provider, delivery: Delivery, sig: Mapping[str, str] | None) -> Delivery:
        value = _load(delivery.body)
        if not isinstance(value, dict):
            return delivery  # a body that is not a JSON object cannot carry a signature
        rest = {k: v for k, v in value.items() if k != FIELD}
        return delivery.replace(body=provider.encode({FIELD: dict(sig), **rest} if sig is not None else rest))

    def signature_object(self, secret: str, now: float, token: str | None = None) -> dict[str, str]:
        """A signature object for this moment: a new 50-character token unless one is given."""
        stamp = str(int(now))
        token = token or secrets.token_hex(25)
        return {"timestamp": stamp, "token": token, "signature": signature_of(secret, stamp, token)}

    def sign(self, provider: Provider, delivery: Delivery, creds: Credentials, now: float) -> Delivery:
        """Put a fresh signature object in the body."""
        signed = self._with(provider, delivery, self.signature_object(creds.secret or "", now))
        return signed.replace(timestamp=int(now))

    def forge(
        self, provider: Provider, delivery: Delivery, creds: Credentials, variant: str, now: float
    ) -> Delivery | None:
        """Missing: no signature object; the others as for any scheme (a replay needs a sent delivery: replayed())."""
        if variant == "missing":
            return self._with(provider, delivery, None)
        return super().forge(provider, delivery, creds, variant, now)

    def replayed(self, provider: Provider, sent: Delivery, other: Delivery) -> Delivery:
        """``other``'s body carrying the signature object of ``sent``, a delivery the receiver has accepted."""
        value = _load(sent.body)
        sig = value.get(FIELD) if isinstance(value, dict) else None
        return self._with(provider, other, sig if isinstance(sig, dict) else None).replace(label="replayed token")

    def malformed(self, delivery: Delivery) -> Delivery:
        """A signature that is not hex (the body is parsed and written back in the provider's layout)."""
        value = _load(delivery.body)
        if not isinstance(value, dict) or not isinstance(value.get(FIELD), dict):
            return delivery
        value[FIELD] = {**value[FIELD], "signature": "%" * 64}
        return delivery.replace(body=_encode_like(delivery, value))

    def fuzz(self, provider: Provider, delivery: Delivery, creds: Credentials, now: float) -> list[Delivery]:
        """Signature objects a fuzzer would try, none with a valid signature."""
        base = self.fuzz_base(provider, delivery, creds, now)
        value = _load(base.body)
        if not isinstance(value, dict) or not isinstance(value.get(FIELD), dict):
            return []
        sig = value[FIELD]
        cases: list[tuple[str, Any]] = [
            (f"signature.timestamp: {label}", {**sig, "timestamp": stamp})
            for label, stamp in timestamp_fuzz(sig["timestamp"])
        ]
        cases += [
            ("signature not hex", {**sig, "signature": "zz" * 32}),
            ("signature empty", {**sig, "signature": ""}),
            ("signature a number", {**sig, "signature": 12345}),
            ("signature null", {**sig, "signature": None}),
            ("8 KiB signature", {**sig, "signature": sig["signature"] + "a" * 8192}),
            ("token missing", {k: v for k, v in sig.items() if k != "token"}),
            ("token a list", {**sig, "token": [sig["token"]]}),
            ("signature object a string", json.dumps(sig)),
            ("signature object a list", list(sig.values())),
        ]
        out = []
        for label, forged in cases:
            body = provider.encode({FIELD: forged, **{k: v for k, v in value.items() if k != FIELD}})
            out.append(base.replace(body=body, label=f"fuzzed body signature: {label}"))
        return out

    def verifier(self, provider: Provider, creds: Credentials, token_ok: Callable[[str], bool]) -> Verifier:
        """Recompute the HMAC and refuse a token seen before with another body.

        The same token with the same bytes is a duplicate delivery (deduplicated downstream), not a forgery.
        """
        return self.lax_verifier(provider, creds, frozenset())

    def lax_verifier(self, provider: Provider, creds: Credentials, skip: frozenset[str]) -> Verifier:
        """The check, leaving out the ``skip`` steps (``replay``: no token cache), for the reference receiver's bugs."""
        key = creds.secret or ""
        seen: OrderedDict[str, bytes] = OrderedDict()  # token -> SHA-256 of the body it came with
        remember = "replay" not in skip

        def check(headers: Headers, body: bytes) -> str | None:
            fields = _fields(body)
            signature, stamp, token = (fields.get(n) for n in (BODY_SIGNATURE, BODY_TIMESTAMP, BODY_TOKEN))
            if not signature or not stamp or not token:
                return "missing Mailgun signature object (signature, timestamp, token)"
            if parse_int(stamp) is None or len(signature) != 64:
                return "malformed Mailgun signature or timestamp"
            if not hmac.compare_digest(signature_of(key, stamp, token), signature.lower()):
                return "Mailgun signature does not verify"
            if remember:
                digest = hashlib.sha256(body).digest()
                if seen.setdefault(token, digest) != digest:
                    return "Mailgun token already used with another body (a replay)"
                if len(seen) > TOKEN_CACHE:
                    seen.popitem(last=False)
            return None

        return Verifier.stamped(self.name, self.headers, False, check, BODY_TIMESTAMP, body_fields=_fields)

    def fresh_credentials(self, provider: Provider, folder: Path, token_url: str) -> Credentials:
        """A random signing key in Mailgun's form (32 hex digits)."""
        return Credentials(secret=secrets.token_hex(16))


def _encode_like(delivery: Delivery, value: Any) -> bytes:
    """The value as compact JSON (the malformed variant only: its exact layout does not matter)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
