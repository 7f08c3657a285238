"""Every scheme's keys, read, made and written in one place: P-256, Ed25519, RSA and self-signed certificates."""

from __future__ import annotations

import base64
import os
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import TypeGuard

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.x509.oid import NameOID

from harness.errors import ConfigError

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | Ed25519PrivateKey

__all__ = [
    "ed25519_private_key",
    "ed25519_public_key",
    "ed25519_text",
    "generate_for",
    "generate_keypair",
    "is_pem_text",
    "load_private_key",
    "load_public_key",
    "new_rsa_key",
    "private_pem",
    "public_ed25519_text",
    "public_key_b64",
    "rsa_pem",
    "rsa_private_key",
    "self_signed",
    "write_private_key",
]


def generate_keypair() -> tuple[bytes, str]:
    """A new P-256 key: the private key as PKCS#8 PEM and the public key as base64 DER SPKI (SendGrid's form)."""
    key = ec.generate_private_key(ec.SECP256R1())
    return private_pem(key), public_key_b64(key.public_key())


def new_rsa_key() -> rsa.RSAPrivateKey:
    """A new RSA-2048 key (public exponent 65537), the size SNS and Google sign with."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def private_pem(key: PrivateKey) -> bytes:
    """A private key as unencrypted PKCS#8 PEM."""
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def write_private_key(path: Path, key: PrivateKey) -> str:
    """Write the key as PEM into a new file only its owner can read (mode 0600); the path, as text."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(private_pem(key))
    return str(path)


def public_key_b64(key: ec.EllipticCurvePublicKey) -> str:
    """Base64 DER SubjectPublicKeyInfo, the form SendGrid shows and its verifiers take."""
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode()


def is_pem_text(value: str) -> bool:
    """The value is PEM content itself (from an env var or config file), not a path to a file."""
    return "-----BEGIN" in value


def _pem_bytes(value: str) -> tuple[bytes, str]:
    """PEM content from the text itself or from the file it names, and how to name it in an error."""
    if is_pem_text(value):
        return value.encode(), "the signing key given as PEM text"
    try:
        return Path(value).expanduser().read_bytes(), repr(value)
    except OSError as exc:
        raise ConfigError(f"Cannot read the signing key {value!r}: {exc.strerror or exc}.") from None


def _pem_private_key(data: bytes, name: str, keygen: str | None) -> object:
    """An unencrypted PEM private key of any type; the one-line error names the ``keygen`` provider that makes one."""
    try:
        return serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        hint = f" (make one with: webhook-harness keygen {keygen})" if keygen else ""
        raise ConfigError(f"{name} is not an unencrypted PEM private key{hint}.") from None


def _is_p256(key: object) -> TypeGuard[ec.EllipticCurvePrivateKey]:
    return isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1)


@lru_cache(maxsize=32)
def load_private_key(path: str) -> ec.EllipticCurvePrivateKey:
    """Load a P-256 private key from a PEM file or PEM text; a one-line error that never quotes the key."""
    data, name = _pem_bytes(path)
    key = _pem_private_key(data, name, "sendgrid")
    if not _is_p256(key):
        raise ConfigError(f"{name} is not an EC P-256 private key, which SendGrid's signature needs.")
    return key


def load_public_key(pem_path: str) -> ec.EllipticCurvePublicKey:
    """The P-256 public key of a private or public key PEM file or PEM text (a real receiver holds only this half)."""
    data, shown = _pem_bytes(pem_path)
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
    if not _is_p256(key):
        raise ConfigError(f"{shown} is not an EC P-256 private key.")
    return key.public_key()


def ed25519_text(key: Ed25519PrivateKey, style: str) -> str:
    """A private key as a provider writes it: ``whsk_<base64 seed>`` (Standard Webhooks) or the seed in hex."""
    seed = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    return "whsk_" + base64.b64encode(seed).decode() if style == "whsk" else seed.hex()


def public_ed25519_text(key: Ed25519PublicKey, style: str) -> str:
    """A public key as a receiver is configured with it: ``whpk_<base64>`` or hex (Discord's form)."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "whpk_" + base64.b64encode(raw).decode() if style == "whsk" else raw.hex()


def _raw_key(text: str, prefix: str) -> bytes | None:
    """The raw bytes of a ``prefix``-base64 or hex key, or None."""
    import binascii

    try:
        if text.startswith(prefix):
            return base64.b64decode(text[len(prefix) :], validate=True)
        if len(text) in (64, 128):
            return bytes.fromhex(text)
    except (binascii.Error, ValueError):
        return None
    return None


@lru_cache(maxsize=32)
def ed25519_private_key(value: str) -> Ed25519PrivateKey:
    """An Ed25519 private key from ``whsk_<base64>``, hex, or a PEM file or text; one line that never quotes it.

    A 64-byte secret key (libsodium's seed + public key) is read by its 32-byte seed.
    """
    text = value.strip()
    raw = _raw_key(text, "whsk_")
    if raw is not None and len(raw) in (32, 64):
        return Ed25519PrivateKey.from_private_bytes(raw[:32])
    if not text.startswith("whsk_") and not is_pem_text(text) and Path(text).expanduser().is_file():
        content = _pem_bytes(text)[0].decode("utf-8", "replace").strip()
        if not is_pem_text(content):  # a file holding whsk_<base64> or hex
            return ed25519_private_key(content) if content != text else _not_ed25519()
    if text.startswith("whsk_") or not (is_pem_text(text) or Path(text).expanduser().is_file()):
        raise ConfigError(
            "The signing key is not an Ed25519 private key (whsk_<base64>, 64 hex digits or a PEM file; "
            "make one with: webhook-harness keygen PROVIDER)."
        )
    data, name = _pem_bytes(text)
    key = _pem_private_key(data, name, None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(f"{name} is not an Ed25519 private key.")
    return key


def ed25519_public_key(value: str) -> Ed25519PublicKey:
    """An Ed25519 public key from ``whpk_<base64>`` or hex (what a receiver holds)."""
    raw = _raw_key(value.strip(), "whpk_")
    if raw is None or len(raw) != 32:
        raise ConfigError("The public key is not an Ed25519 public key (whpk_<base64> or 64 hex digits).")
    return Ed25519PublicKey.from_public_bytes(raw)


def rsa_pem(key: rsa.RSAPrivateKey) -> str:
    """An RSA private key as PKCS#8 PEM text."""
    return private_pem(key).decode("ascii")


@lru_cache(maxsize=32)
def rsa_private_key(value: str, keygen: str = "gcp-pubsub", need: str = "an RS256 token") -> rsa.RSAPrivateKey:
    """An RSA private key from a PEM file or PEM text, for what ``need`` names; one line that never quotes the key."""
    data, name = _pem_bytes(value)
    key = _pem_private_key(data, name, keygen)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ConfigError(f"{name} is not an RSA private key, which {need} needs.")
    return key


def self_signed(key: rsa.RSAPrivateKey, common_name: str, valid_from: timedelta, valid_for: timedelta) -> bytes:
    """A self-signed SHA-256 certificate of the key, PEM, valid from ``valid_from`` ago for ``valid_for`` from now."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - valid_from)
        .not_valid_after(now + valid_for)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


def _not_ed25519() -> Ed25519PrivateKey:
    raise ConfigError("The signing key is not an Ed25519 private key.")


# What keygen makes for each provider whose scheme signs with a private key: the key's kind and the public form.
KEYGEN = {"sendgrid": "p256", "standard-v1a": "whsk", "discord": "hex", "gcp-pubsub": "rsa", "aws-sns": "x509"}


def generate_for(provider: str) -> tuple[bytes, str]:
    """A new private key as PEM for a provider (``KEYGEN``), and the public half as its receiver is configured with it.

    SendGrid: base64 DER SPKI. Standard Webhooks v1a: ``whpk_<base64>``. Discord: hex. Pub/Sub push: the JWKS.
    AWS SNS: the key's self-signed certificate (PEM), which the harness serves as SigningCertURL.
    """
    kind = KEYGEN[provider]
    if kind == "p256":
        return generate_keypair()
    if kind == "x509":
        from harness.signing._x509 import sns_keypair

        key_pem, certificate = sns_keypair()
        return key_pem, certificate.decode()
    if kind == "rsa":
        import json

        from harness.credentials import Credentials
        from harness.signing._oidc import jwks

        text = rsa_pem(new_rsa_key())
        return text.encode("ascii"), json.dumps(jwks(Credentials(signing_key=text)), indent=2)
    key = Ed25519PrivateKey.generate()
    return private_pem(key), public_ed25519_text(key.public_key(), kind)
