"""SendGrid's signed Event Webhook: ECDSA P-256 / SHA-256 over timestamp + raw body, DER, base64."""

from __future__ import annotations

import base64
from dataclasses import replace
from functools import lru_cache

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from harness.catalog import Provider
from harness.core.models import Delivery
from harness.credentials import Credentials
from harness.signing._base import SigningScheme
from harness.signing.keys import load_private_key

__all__ = ["SendGridEcdsa"]

SIGNATURE = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP = "X-Twilio-Email-Event-Webhook-Timestamp"


@lru_cache(maxsize=1)
def _stranger_key_path() -> str:
    """A throw-away key for the wrong-key variant, written once per process."""
    import os
    import tempfile

    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    fd, path = tempfile.mkstemp(prefix="webhook-harness-wrong-key-", suffix=".pem")
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    return path


class SendGridEcdsa(SigningScheme):
    """Signs ``timestamp + body`` with the private key whose public half the receiver holds."""

    name = "sendgrid-ecdsa"
    headers = (SIGNATURE, TIMESTAMP)
    timestamped = True
    secret_field = "signing_key"

    def sign(self, provider: Provider, delivery: Delivery, creds: Credentials, now: float) -> Delivery:
        """Add the signature and timestamp headers."""
        key = load_private_key(creds.signing_key or "")
        stamp = str(int(now))
        signature = key.sign(stamp.encode() + delivery.body, ec.ECDSA(hashes.SHA256()))
        headers = {SIGNATURE: base64.b64encode(signature).decode(), TIMESTAMP: stamp}
        return self._set_headers(delivery, headers, int(now))

    def wrong_credentials(self, creds: Credentials) -> Credentials:
        """Another P-256 key."""
        return replace(creds, signing_key=_stranger_key_path())

    def malformed(self, delivery: Delivery) -> Delivery:
        """A signature that is not base64 DER."""
        return delivery.with_headers({SIGNATURE: "not*base64*der"})
