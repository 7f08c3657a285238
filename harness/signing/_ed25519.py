"""Ed25519 signatures: Standard Webhooks' asymmetric ``v1a`` and Discord's interaction signatures.

The sender holds the private key (``--signing-key``: ``whsk_<base64>``, 64 hex digits or an Ed25519 PEM); a receiver
holds only the public half (``whpk_<base64>`` or hex), which ``keygen`` prints.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from harness.catalog import Provider
from harness.core.models import Delivery
from harness.credentials import Credentials
from harness.signing._base import SigningScheme
from harness.signing._verifier import Headers, Verifier, get_header, parse_int, unb64
from harness.signing.keys import ed25519_private_key, ed25519_text, public_ed25519_text

__all__ = ["DiscordEd25519", "Ed25519Scheme", "StandardV1a"]

_SIZE = 64  # an Ed25519 signature's length in bytes


@lru_cache(maxsize=4)
def _stranger(style: str) -> str:
    """A throw-away key in the same style, for the wrong-key variant (kept in memory only)."""
    return ed25519_text(Ed25519PrivateKey.generate(), style)


class Ed25519Scheme(SigningScheme):
    """Ed25519 over ``prefix + body``; what the prefix holds and how the signature travels, subclasses say."""

    secret_field = "signing_key"
    timestamped = True
    key_style = "whsk"  # how keys of this scheme are written (whsk_/whpk_ base64, or hex)
    signature_header = ""
    stamp_header = ""

    def signed_prefix(self, delivery: Delivery, stamp: str) -> bytes:
        """What is signed before the body."""
        raise NotImplementedError

    def encode(self, signature: bytes) -> str:
        """One signature as the header carries it."""
        raise NotImplementedError

    def decode_all(self, value: str) -> list[bytes] | None:
        """Every signature in a header value, or None when the value is malformed."""
        raise NotImplementedError

    def prepare(self, delivery: Delivery) -> Delivery:
        """The delivery with any header the signed content needs (Standard Webhooks' id)."""
        return delivery

    def _signature(self, key: Ed25519PrivateKey, delivery: Delivery, stamp: str) -> bytes:
        return key.sign(self.signed_prefix(delivery, stamp) + delivery.body)

    def sign(self, provider: Provider, delivery: Delivery, creds: Credentials, now: float) -> Delivery:
        """Add the signature and timestamp headers."""
        key = ed25519_private_key(creds.signing_key or "")
        delivery = self.prepare(delivery)
        stamp = str(int(now))
        value = self.encode(self._signature(key, delivery, stamp))
        return self._set_headers(delivery, {self.signature_header: value, self.stamp_header: stamp}, int(now))

    def verifier(self, provider: Provider, creds: Credentials, token_ok: Callable[[str], bool]) -> Verifier:
        """Verify with the public half only, as a real receiver holds it."""
        return self.public_verifier(ed25519_private_key(creds.signing_key or "").public_key())

    signature_list: tuple[str, str, str] | None = None

    def public_verifier(self, public: Ed25519PublicKey) -> Verifier:
        """The receiver's check with one public key: any signature in the header that verifies passes."""
        label = self.name

        def check(headers: Headers, body: bytes) -> str | None:
            value, stamp = get_header(headers, self.signature_header), get_header(headers, self.stamp_header)
            if not value or not stamp:
                return f"missing {label} signature or timestamp header"
            signatures = self.decode_all(value)
            if not signatures or parse_int(stamp) is None:
                return f"malformed {label} signature or timestamp"
            signed = self.signed_prefix_from(headers, stamp) + body
            for signature in signatures:
                try:
                    public.verify(signature, signed)
                except InvalidSignature:
                    continue
                return None
            return f"{label} signature does not verify"

        return Verifier.stamped(
            self.name, self.headers, True, check, self.stamp_header, signature_list=self.signature_list
        )

    def signed_prefix_from(self, headers: Headers, stamp: str) -> bytes:
        """What is signed before the body, from a received request's headers."""
        raise NotImplementedError

    def fresh_credentials(self, provider: Provider, folder: Path, token_url: str) -> Credentials:
        """A new Ed25519 private key, in this scheme's style."""
        return Credentials(signing_key=ed25519_text(Ed25519PrivateKey.generate(), self.key_style))

    def wrong_credentials(self, creds: Credentials) -> Credentials:
        """Another Ed25519 key of the same style."""
        return replace(creds, signing_key=_stranger(self.key_style))

    def public_key(self, creds: Credentials) -> str:
        """The public half as the receiver is configured with it (``whpk_...`` or hex)."""
        return public_ed25519_text(ed25519_private_key(creds.signing_key or "").public_key(), self.key_style)

    @property
    def timestamp_header(self) -> str | None:
        """The timestamp travels on its own."""
        return self.stamp_header


class StandardV1a(Ed25519Scheme):
    """Standard Webhooks' asymmetric signature: ``webhook-signature: v1a,<base64>`` over ``id.timestamp.body``.

    The header is a space-separated list, so a key rotation sends one ``v1a`` entry per active key.
    """

    name = "standard-v1a"
    signature_header = "webhook-signature"
    stamp_header = "webhook-timestamp"
    id_header = "webhook-id"
    headers = ("webhook-signature", "webhook-timestamp")
    separator = " "
    tag = "v1a,"
    signature_list = ("webhook-signature", " ", "v1a,")

    def prepare(self, delivery: Delivery) -> Delivery:
        """A webhook-id is part of the signed content: one is added when the delivery has none."""
        if delivery.header(self.id_header):
            return delivery
        return delivery.with_headers({self.id_header: f"msg_{secrets.token_hex(12)}"})

    def signed_prefix(self, delivery: Delivery, stamp: str) -> bytes:
        """``{id}.{timestamp}.``"""
        return f"{delivery.header(self.id_header) or ''}.{stamp}.".encode()

    def signed_prefix_from(self, headers: Headers, stamp: str) -> bytes:
        """``{id}.{timestamp}.`` from the received headers."""
        return f"{get_header(headers, self.id_header) or ''}.{stamp}.".encode()

    def encode(self, signature: bytes) -> str:
        """``v1a,<base64>``."""
        return self.tag + base64.b64encode(signature).decode()

    def decode_all(self, value: str) -> list[bytes] | None:
        """The ``v1a`` entries of the space-separated list (``v1`` HMAC entries are another scheme's)."""
        out = []
        for item in value.split(self.separator):
            if not item.startswith(self.tag):
                continue
            raw = unb64(item[len(self.tag) :])
            if raw is not None and len(raw) == _SIZE:
                out.append(raw)
        return out or None

    @property
    def extra_keys_supported(self) -> bool:
        """The header carries one signature per active key while a key rotates."""
        return True

    def _add_signatures(
        self, provider: Provider, signed: Delivery, creds: Credentials, now: float, extra: tuple[Sequence[str], bool]
    ) -> Delivery:
        """One ``v1a`` entry per extra key, before or after ours."""
        extra_keys, extra_first = extra
        stamp = signed.header(self.stamp_header) or str(int(now))
        extras = [self.encode(self._signature(ed25519_private_key(key), signed, stamp)) for key in extra_keys]
        own = signed.header(self.signature_header) or ""
        items = [*extras, own] if extra_first else [own, *extras]
        return signed.with_headers({self.signature_header: self.separator.join(items)})

    def malformed(self, delivery: Delivery) -> Delivery:
        """A v1a entry whose signature is not base64."""
        return delivery.with_headers({self.signature_header: self.tag + "%" * 88})


class DiscordEd25519(Ed25519Scheme):
    """Discord interactions: ``X-Signature-Ed25519`` (hex) over ``X-Signature-Timestamp + body``."""

    name = "discord-ed25519"
    key_style = "hex"
    signature_header = "X-Signature-Ed25519"
    stamp_header = "X-Signature-Timestamp"
    headers = ("X-Signature-Ed25519", "X-Signature-Timestamp")

    def signed_prefix(self, delivery: Delivery, stamp: str) -> bytes:
        """The timestamp text."""
        return stamp.encode()

    def signed_prefix_from(self, headers: Headers, stamp: str) -> bytes:
        """The timestamp text as received."""
        return stamp.encode()

    def encode(self, signature: bytes) -> str:
        """Lower-case hex."""
        return signature.hex()

    def decode_all(self, value: str) -> list[bytes] | None:
        """The one hex signature."""
        text = value.strip()
        if len(text) != 2 * _SIZE:
            return None
        try:
            return [bytes.fromhex(text)]
        except ValueError:
            return None

    def malformed(self, delivery: Delivery) -> Delivery:
        """A signature that is not hex."""
        return delivery.with_headers({self.signature_header: "zz" * _SIZE})
