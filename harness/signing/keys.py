"""ECDSA P-256 keys for SendGrid's signed Event Webhook."""

from __future__ import annotations

import base64
from functools import lru_cache
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from harness.errors import ConfigError

__all__ = ["generate_keypair", "is_pem_text", "load_private_key", "load_public_key", "public_key_b64"]


def generate_keypair() -> tuple[bytes, str]:
    """A new P-256 key: the private key as PKCS#8 PEM and the public key as base64 DER SPKI (SendGrid's form)."""
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return pem, public_key_b64(key.public_key())


def public_key_b64(key: ec.EllipticCurvePublicKey) -> str:
    """Base64 DER SubjectPublicKeyInfo, the form SendGrid shows and its verifiers take."""
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode()


def is_pem_text(value: str) -> bool:
    """The value is PEM content itself (from an env var or config file), not a path to a file."""
    return "-----BEGIN" in value


@lru_cache(maxsize=32)
def load_private_key(path: str) -> ec.EllipticCurvePrivateKey:
    """Load a P-256 private key from a PEM file or PEM text; a one-line error that never quotes the key."""
    inline = is_pem_text(path)
    name = "the signing key given as PEM text" if inline else repr(path)
    if inline:
        data = path.encode()
    else:
        try:
            data = Path(path).expanduser().read_bytes()
        except OSError as exc:
            raise ConfigError(f"Cannot read the signing key {path!r}: {exc.strerror or exc}.") from None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise ConfigError(
            f"{name} is not an unencrypted PEM private key (make one with: webhook-harness keygen sendgrid)."
        ) from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ConfigError(f"{name} is not an EC P-256 private key, which SendGrid's signature needs.")
    return key


def load_public_key(pem_path: str) -> ec.EllipticCurvePublicKey:
    """The P-256 public key of a private or public key PEM file or PEM text (a real receiver holds only this half)."""
    if is_pem_text(pem_path):
        data, shown = pem_path.encode(), "the signing key given as PEM text"
    else:
        shown = repr(pem_path)
        try:
            data = Path(pem_path).expanduser().read_bytes()
        except OSError as exc:
            raise ConfigError(f"Cannot read the signing key {pem_path!r}: {exc.strerror or exc}.") from None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        try:
            public = serialization.load_pem_public_key(data)
        except ValueError:
            raise ConfigError(f"{shown} is not a PEM EC P-256 key.") from None
        if not isinstance(public, ec.EllipticCurvePublicKey):
            raise ConfigError(f"{shown} is not an EC P-256 key.") from None
        return public
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ConfigError(f"{shown} is not an EC P-256 private key.")
    return key.public_key()
