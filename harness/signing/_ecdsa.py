"""SendGrid's signed Event Webhook: ECDSA P-256 / SHA-256 over timestamp + raw body, DER, base64."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from harness.catalog import Provider
from harness.core.models import Delivery
from harness.credentials import Credentials
from harness.signing._base import SigningScheme
from harness.signing._verifier import Headers, Verifier, get_header, parse_int, unb64
from harness.signing.keys import load_private_key, load_public_key, private_pem, write_private_key

__all__ = ["SendGridEcdsa"]

SIGNATURE = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP = "X-Twilio-Email-Event-Webhook-Timestamp"


@lru_cache(maxsize=1)
def _stranger_key() -> tuple[str, ec.EllipticCurvePrivateKey]:
    """A throw-away key for the wrong-key variant, kept in memory only (never written to a temp file)."""
    key = ec.generate_private_key(ec.SECP256R1())
    return private_pem(key).decode("ascii"), key


def _private_key(signing_key: str) -> ec.EllipticCurvePrivateKey:
    stranger_pem, stranger = _stranger_key()
    return stranger if signing_key == stranger_pem else load_private_key(signing_key)


class SendGridEcdsa(SigningScheme):
    """Signs ``timestamp + body`` with the private key whose public half the receiver holds."""

    name = "sendgrid-ecdsa"
    headers = (SIGNATURE, TIMESTAMP)
    timestamped = True
    secret_field = "signing_key"

    def sign(self, provider: Provider, delivery: Delivery, creds: Credentials, now: float) -> Delivery:
        """Add the signature and timestamp headers."""
        key = _private_key(creds.signing_key or "")
        stamp = str(int(now))
        signature = key.sign(stamp.encode() + delivery.body, ec.ECDSA(hashes.SHA256()))
        headers = {SIGNATURE: base64.b64encode(signature).decode(), TIMESTAMP: stamp}
        return self._set_headers(delivery, headers, int(now))

    def verifier(self, provider: Provider, creds: Credentials, token_ok: Callable[[str], bool]) -> Verifier:
        """Verify with the public half only, as a real receiver holds it."""
        public = load_public_key(creds.signing_key or "")

        def check(headers: Headers, body: bytes) -> str | None:
            signature, stamp = get_header(headers, SIGNATURE), get_header(headers, TIMESTAMP)
            if not signature or not stamp:
                return "missing SendGrid signature or timestamp header"
            der = unb64(signature)
            if der is None or parse_int(stamp) is None:
                return "malformed SendGrid signature or timestamp"
            try:
                public.verify(der, stamp.encode() + body, ec.ECDSA(hashes.SHA256()))
            except (InvalidSignature, ValueError):
                return "SendGrid signature does not verify"
            return None

        return Verifier.stamped(self.name, self.headers, True, check, TIMESTAMP)

    def fresh_credentials(self, provider: Provider, folder: Path, token_url: str) -> Credentials:
        """A new P-256 key written (mode 0600) into the folder."""
        key = ec.generate_private_key(ec.SECP256R1())
        return Credentials(signing_key=write_private_key(folder / "sendgrid-signing-key.pem", key))

    @property
    def timestamp_header(self) -> str | None:
        """The timestamp travels on its own."""
        return TIMESTAMP

    def wrong_credentials(self, creds: Credentials) -> Credentials:
        """Another P-256 key."""
        return replace(creds, signing_key=_stranger_key()[0])

    def malformed(self, delivery: Delivery) -> Delivery:
        """A signature that is not base64 DER."""
        return delivery.with_headers({SIGNATURE: "not*base64*der"})
