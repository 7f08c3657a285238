"""A shared secret compared inside the body: Microsoft Graph's ``clientState`` in every change notification.

Graph signs nothing for basic notifications: each item of the ``value`` array carries the ``clientState`` the
subscription was created with, and the receiver must refuse a notification whose value is not exactly it. The
signer writes the secret into every item's field in place (the other bytes stay as they were), so a body the harness
crafted byte for byte keeps its bytes.
"""

from __future__ import annotations

import copy
import hmac
import json
import re
import secrets
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from harness.catalog import Provider
from harness.core.models import Delivery
from harness.credentials import Credentials
from harness.signing._base import SigningScheme, signature_fuzz
from harness.signing._verifier import Headers, Verifier

__all__ = ["ClientState"]

FIELD = "clientState"
ITEMS = "value"
MAX_LENGTH = 128  # Graph's documented limit for clientState
BODY_FIELD = "(body) clientState"  # the field as the receiver's view of a request shows it: no header has this name
_VALUE = re.compile(rb'("clientState"\s*:\s*)("(?:[^"\\]|\\.)*"|-?[0-9.eE+-]+|true|false|null)')


def _rewrite(provider: Provider, delivery: Delivery, value: Any, *, drop: bool = False) -> Delivery:
    """Every item's clientState set to ``value`` (its JSON text), or removed; other bytes unchanged where possible."""
    try:
        document = json.loads(delivery.body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return delivery  # not JSON (a malformed-body check): nothing to carry the secret
    items = document.get(ITEMS) if isinstance(document, dict) else None
    if not isinstance(items, list):
        return delivery
    payload = copy.deepcopy(delivery.payload) if delivery.payload is not None else document
    for item in payload.get(ITEMS, []) if isinstance(payload, dict) else []:
        if isinstance(item, dict):
            if drop:
                item.pop(FIELD, None)
            else:
                item[FIELD] = value
    text = json.dumps(value, ensure_ascii=False).encode()
    found = len(_VALUE.findall(delivery.body))
    if not drop and found == sum(isinstance(i, dict) for i in items):
        body = _VALUE.sub(lambda m: m.group(1) + text, delivery.body)
        return delivery.replace(body=body, payload=payload)
    for item in items:  # a field to add or remove: the body is written again in the provider's layout
        if isinstance(item, dict):
            if drop:
                item.pop(FIELD, None)
            else:
                item[FIELD] = value
    return delivery.replace(body=provider.encode(document), payload=payload)


def _fields(body: bytes) -> dict[str, str]:
    """The view's marker that the body names a clientState anywhere (each value is checked in the body itself)."""
    return {BODY_FIELD: FIELD} if b'"clientState"' in body else {}


def _random_state() -> str:
    value = secrets.token_urlsafe(32)
    while value.startswith("-"):
        value = secrets.token_urlsafe(32)
    return value


class ClientState(SigningScheme):
    """Microsoft Graph's clientState: the subscription's secret, repeated in every notification of the body."""

    name = "graph-client-state"
    headers = ()
    signs_body = False
    secret_field = "secret"

    def sign(self, provider: Provider, delivery: Delivery, creds: Credentials, now: float) -> Delivery:
        """Write the secret into every notification's clientState."""
        return _rewrite(provider, delivery, creds.secret or "")

    def variants(self, provider: Provider) -> tuple[str, ...]:
        """Missing, another subscription's value, and a value that is not a string."""
        return ("missing", "wrong-key", "malformed-header")

    def forge(
        self, provider: Provider, delivery: Delivery, creds: Credentials, variant: str, now: float
    ) -> Delivery | None:
        """No clientState, a stranger's, or a non-string one."""
        if variant == "missing":
            return _rewrite(provider, delivery, None, drop=True)
        if variant == "wrong-key":
            return _rewrite(provider, delivery, self.wrong_credentials(creds).secret)
        if variant == "malformed-header":
            return _rewrite(provider, delivery, {"value": creds.secret})  # the right text, in the wrong type
        return None

    def wrong_credentials(self, creds: Credentials) -> Credentials:
        """Another subscription's clientState."""
        return replace(creds, secret=_random_state())

    def fuzz(self, provider: Provider, delivery: Delivery, creds: Credentials, now: float) -> list[Delivery]:
        """What a fuzzer does to a stranger's clientState, then near misses of the real one a careless comparison
        lets through: one character tampered, a prefix, a suffix, padding, another letter case, empty, null."""
        stranger = self.wrong_credentials(creds).secret or "x"
        mangled: list[tuple[str, Any]] = list(signature_fuzz(stranger))
        secret = creds.secret or "x"
        last = "A" if secret[-1] != "A" else "B"
        mangled += [
            ("one character tampered", secret[:-1] + last),
            ("a prefix of the secret", secret[: max(1, len(secret) // 2)]),
            ("the secret with a suffix", secret + "x"),
            ("padded with spaces", f" {secret} "),
            ("other letter case", secret.swapcase() if secret.swapcase() != secret else secret + "Z"),
            ("null", None),
        ]
        return [
            _rewrite(provider, delivery, value).replace(label=f"fuzzed {FIELD}: {label}") for label, value in mangled
        ]

    def verifier(self, provider: Provider, creds: Credentials, token_ok: Callable[[str], bool]) -> Verifier:
        """Every notification's clientState equals the secret (compared in constant time)."""
        expected = (creds.secret or "").encode()

        def check(headers: Headers, body: bytes) -> str | None:
            try:
                document = json.loads(body)
            except (ValueError, UnicodeDecodeError, RecursionError):
                return "body is not JSON: no clientState to check"
            items = document.get(ITEMS) if isinstance(document, dict) else None
            if not isinstance(items, list) or not items:
                return f"no {ITEMS} array of notifications"
            for item in items:
                given = item.get(FIELD) if isinstance(item, dict) else None
                if not isinstance(given, str):
                    return f"a notification without a string {FIELD}"
                if not hmac.compare_digest(expected, given.encode("utf-8", "surrogatepass")):
                    return f"{FIELD} does not match"
            return None

        return Verifier(self.name, (BODY_FIELD,), False, check, body_fields=_fields)

    def fresh_credentials(self, provider: Provider, folder: Path, token_url: str) -> Credentials:
        """A random clientState (Graph allows up to 128 characters)."""
        return Credentials(secret=_random_state())
