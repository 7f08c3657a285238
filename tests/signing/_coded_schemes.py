"""The coded HMAC schemes as they were before the declarative form replaced them (kept as the test oracle).

Verbatim from harness/signing/_hmac.py and _mac.py at f0b5123, except imports; used only to prove that the
declarative descriptions in the built-in profiles produce byte-identical headers."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import replace
from functools import lru_cache
from typing import Any, ClassVar

from harness.catalog import Provider
from harness.core.models import Delivery
from harness.credentials import Credentials
from harness.errors import ConfigError
from harness.signing._base import SigningScheme

_BLOCK = 64  # SHA-256's block size in bytes
_IPAD = bytes(x ^ 0x36 for x in range(256))
_OPAD = bytes(x ^ 0x5C for x in range(256))
_STATES: dict[bytes, tuple[Any, Any]] = {}


def _states(key: bytes) -> tuple[Any, Any]:
    """The SHA-256 states after absorbing ``K ^ ipad`` and ``K ^ opad`` (cached per key)."""
    found = _STATES.get(key)
    if found is None:
        block = hashlib.sha256(key).digest() if len(key) > _BLOCK else key
        block = block.ljust(_BLOCK, b"\0")
        found = (hashlib.sha256(block.translate(_IPAD)), hashlib.sha256(block.translate(_OPAD)))
        if len(_STATES) > 64:
            _STATES.clear()
        _STATES[key] = found
    return found


def hmac_sha256(key: bytes, message: bytes) -> bytes:
    """HMAC-SHA256 of ``message``."""
    inner_state, outer_state = _STATES.get(key) or _states(key)
    inner = inner_state.copy()
    inner.update(message)
    outer = outer_state.copy()
    outer.update(inner.digest())
    return outer.digest()  # type: ignore[no-any-return]


def hmac_sha256_prefixed(key: bytes, prefix: bytes, body: bytes) -> bytes:
    """HMAC-SHA256 of ``prefix + body``, without building the concatenation."""
    inner_state, outer_state = _STATES.get(key) or _states(key)
    inner = inner_state.copy()
    inner.update(prefix)
    inner.update(body)
    outer = outer_state.copy()
    outer.update(inner.digest())
    return outer.digest()  # type: ignore[no-any-return]


_mac = hmac_sha256
_mac2 = hmac_sha256_prefixed


_UTF8: dict[str, bytes] = {}


def _utf8(secret: str) -> bytes:
    key = _UTF8.get(secret)
    if key is None:
        if len(_UTF8) > 64:
            _UTF8.clear()
        key = _UTF8[secret] = secret.encode()
    return key


@lru_cache(maxsize=64)
def _b64key(secret: str) -> bytes:
    return base64.b64decode(secret, validate=True)


_WHSEC: dict[str, bytes] = {}


def _whsec_key(secret: str) -> bytes:
    """The HMAC key of a ``whsec_<base64>`` secret (cached: decoding is not free on the hot path)."""
    key = _WHSEC.get(secret)
    if key is None:
        if len(_WHSEC) > 64:
            _WHSEC.clear()
        key = _WHSEC[secret] = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    return key


def _b64(data: bytes) -> str:
    return binascii.b2a_base64(data, newline=False).decode()


class TeamsHmac(SigningScheme):
    """``Authorization: HMAC <base64>`` keyed with the base64-decoded security token."""

    name = "teams-hmac"
    headers = ("Authorization",)

    def sign(self, provider: Provider, delivery: Delivery, creds: Credentials, now: float) -> Delivery:
        """Sign the raw body."""
        try:
            key = _b64key(creds.secret or "")
        except ValueError:
            raise ConfigError("The Teams security token (--secret) must be base64, as Teams shows it.") from None
        return self._set_headers(delivery, {"Authorization": "HMAC " + _b64(_mac(key, delivery.body))})

    def malformed(self, delivery: Delivery) -> Delivery:
        """An HMAC header whose value is not base64."""
        return delivery.with_headers({"Authorization": "HMAC %%not-base64%%"})


class _Hub(SigningScheme):
    """WebSub-style ``sha256=<hex>`` over the raw body."""

    header: ClassVar[str] = ""

    def sign(self, provider: Provider, delivery: Delivery, creds: Credentials, now: float) -> Delivery:
        """Sign the raw body."""
        digest = _mac(_utf8(creds.secret or ""), delivery.body).hex()
        return self._set_headers(delivery, {self.header: "sha256=" + digest})

    def malformed(self, delivery: Delivery) -> Delivery:
        """A digest that is not hex."""
        return delivery.with_headers({self.header: "sha256=zz" + "0" * 62})


class Jira(_Hub):
    """Jira's ``X-Hub-Signature: sha256=<hex>``."""

    name = "jira"
    header = "X-Hub-Signature"
    headers = ("X-Hub-Signature",)


class GitHub(_Hub):
    """GitHub's ``X-Hub-Signature-256: sha256=<hex>`` and the legacy ``X-Hub-Signature: sha1=<hex>`` beside it."""

    name = "github"
    header = "X-Hub-Signature-256"
    headers = ("X-Hub-Signature-256", "X-Hub-Signature")

    def sign(self, provider: Provider, delivery: Delivery, creds: Credentials, now: float) -> Delivery:
        """Both signatures of the raw body, with the same secret."""
        signed = super().sign(provider, delivery, creds, now)
        legacy = hmac.new((creds.secret or "").encode(), delivery.body, hashlib.sha1).hexdigest()
        return signed.with_headers({"X-Hub-Signature": f"sha1={legacy}"})


class Shopify(SigningScheme):
    """``X-Shopify-Hmac-Sha256``: base64 HMAC of the raw body with the app's client secret."""

    name = "shopify"
    headers = ("X-Shopify-Hmac-Sha256",)

    def sign(self, provider: Provider, delivery: Delivery, creds: Credentials, now: float) -> Delivery:
        """Sign the raw body."""
        return self._set_headers(delivery, {self.headers[0]: _b64(_mac(_utf8(creds.secret or ""), delivery.body))})


class Stripe(SigningScheme):
    """``Stripe-Signature: t=<unix>,v1=<hex>`` over ``"{t}.{body}"``, keyed with the whsec_ string as is.

    During a secret roll Stripe sends one ``v1`` per active secret; ``extra_keys`` adds those (first or last).
    """

    name = "stripe"
    headers = ("Stripe-Signature",)
    timestamped = True
    extra_keys_supported: ClassVar[bool] = True

    def sign(
        self,
        provider: Provider,
        delivery: Delivery,
        creds: Credentials,
        now: float,
        *,
        extra_keys: Sequence[str] = (),
        extra_first: bool = True,
    ) -> Delivery:
        """Sign timestamp and body (with each of ``extra_keys`` too: several ``v1`` entries)."""
        stamp = int(now)
        prefix = b"%d." % stamp
        own = f"v1={_mac2(_utf8(creds.secret or ''), prefix, delivery.body).hex()}"
        if extra_keys:
            extra = [f"v1={_mac2(_utf8(key), prefix, delivery.body).hex()}" for key in extra_keys]
            own = ",".join([*extra, own] if extra_first else [own, *extra])
        return self._set_headers(delivery, {"Stripe-Signature": f"t={stamp},{own}"}, stamp)

    def malformed(self, delivery: Delivery) -> Delivery:
        """A header without a usable timestamp or v1 entry."""
        return delivery.with_headers({"Stripe-Signature": "t=abc,v2=not-hex"})


class Slack(SigningScheme):
    """``X-Slack-Signature: v0=<hex>`` over ``"v0:{ts}:{body}"`` plus ``X-Slack-Request-Timestamp``."""

    name = "slack"
    headers = ("X-Slack-Signature", "X-Slack-Request-Timestamp")
    timestamped = True

    def sign(self, provider: Provider, delivery: Delivery, creds: Credentials, now: float) -> Delivery:
        """Sign timestamp and body."""
        stamp = int(now)
        digest = _mac2(_utf8(creds.secret or ""), b"v0:%d:" % stamp, delivery.body).hex()
        headers = {"X-Slack-Request-Timestamp": str(stamp), "X-Slack-Signature": "v0=" + digest}
        return self._set_headers(delivery, headers, stamp)

    def malformed(self, delivery: Delivery) -> Delivery:
        """A signature without the v0= version."""
        return delivery.with_headers({"X-Slack-Signature": "v9=" + "g" * 64})


_FAMILIES = {
    "webhook": ("webhook-id", "webhook-timestamp", "webhook-signature"),
    "svix": ("svix-id", "svix-timestamp", "svix-signature"),
}


class Standard(SigningScheme):
    """Standard Webhooks: ``webhook-id``, ``webhook-timestamp``, ``webhook-signature: v1,<base64>`` (or svix-*)."""

    name = "standard"
    headers = ("webhook-signature", "webhook-timestamp", "svix-signature", "svix-timestamp", "svix-id")
    timestamped = True
    header_prefix: ClassVar[str] = "webhook"

    def __init__(self) -> None:
        self._names = _FAMILIES[self.header_prefix]
        self._others = frozenset(n for family in _FAMILIES.values() for n in family) - set(self._names)
        self._not_yet = self._others | set(self._names[1:])  # absent in the common case: only our id is there

    extra_keys_supported: ClassVar[bool] = True

    def sign(
        self,
        provider: Provider,
        delivery: Delivery,
        creds: Credentials,
        now: float,
        *,
        extra_keys: Sequence[str] = (),
        extra_first: bool = True,
    ) -> Delivery:
        """Sign id, timestamp and body with the base64-decoded whsec_ key (and ``extra_keys``: a signature list)."""
        signed = self._sign(delivery, creds, now)
        if not extra_keys:
            return signed
        id_header, _, signature_header = self._names
        prefix = b"%s.%d." % (signed.headers[id_header].encode(), int(now))
        try:
            extra = [f"v1,{_b64(_mac2(_whsec_key(key), prefix, signed.body))}" for key in extra_keys]
        except ValueError:
            raise ConfigError("A Standard Webhooks secret is 'whsec_' followed by base64.") from None
        own = [signed.headers[signature_header]]
        entries = extra + own if extra_first else own + extra
        return signed.with_headers({signature_header: " ".join(entries)})

    def _sign(self, delivery: Delivery, creds: Credentials, now: float) -> Delivery:
        secret = creds.secret or ""
        key = _WHSEC.get(secret)
        if key is None:
            try:
                key = _whsec_key(secret)
            except ValueError:
                raise ConfigError("A Standard Webhooks secret (--secret) is 'whsec_' followed by base64.") from None
        lowered = delivery.__dict__.get("_lower") or delivery._lowered()
        id_header, stamp_header, signature_header = self._names
        stamp = int(now)
        if lowered.get(id_header) == id_header and self._not_yet.isdisjoint(lowered):  # the hot path
            msg_id = delivery.headers[id_header]
            signature = _b64(_mac2(key, b"%s.%d." % (msg_id.encode(), stamp), delivery.body))
            return delivery._plus_headers({stamp_header: str(stamp), signature_header: "v1," + signature}, stamp)
        id_name = lowered.get("webhook-id") or lowered.get("svix-id")
        msg_id = delivery.headers[id_name] if id_name else f"msg_{secrets.token_hex(12)}"
        signature = _b64(_mac2(key, b"%s.%d." % (msg_id.encode(), stamp), delivery.body))
        updates = {id_header: msg_id, stamp_header: str(stamp), signature_header: "v1," + signature}
        present = [lowered[n] for n in self._others if n in lowered]
        if present:  # switching between webhook-* and svix-* names: drop the other family
            delivery = delivery.without_headers(present)
        return delivery.with_headers(updates, timestamp=stamp)

    def forge(
        self, provider: Provider, delivery: Delivery, creds: Credentials, variant: str, now: float
    ) -> Delivery | None:
        """As the base class, but 'missing' keeps webhook-id (it is the idempotency key, not a credential)."""
        if variant == "missing":
            return delivery.without_headers(["webhook-signature", "webhook-timestamp", "svix-signature"])
        return super().forge(provider, delivery, creds, variant, now)

    def malformed(self, delivery: Delivery) -> Delivery:
        """A signature list without a v1 entry."""
        name = f"{self.header_prefix}-signature"
        return delivery.with_headers({name: "v1a," + "%" * 20})

    def wrong_credentials(self, creds: Credentials) -> Credentials:
        """Another random whsec_ key."""
        return replace(creds, secret="whsec_" + _b64(secrets.token_bytes(32)))


class SvixStandard(Standard):
    """Standard Webhooks with Svix's ``svix-*`` header names."""

    name = "standard-svix"
    header_prefix = "svix"
