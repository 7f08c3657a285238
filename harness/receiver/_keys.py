"""Fresh credentials for a reference receiver, and the public half of a SendGrid signing key."""

from __future__ import annotations

import base64
import os
import secrets
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from harness.catalog import Provider
from harness.credentials import Credentials
from harness.errors import ConfigError

__all__ = ["OAUTH_SCHEME", "generate_credentials", "load_public_key", "public_key_b64"]

OAUTH_SCHEME = "oauth2-client-credentials"
_HMAC_SCHEMES = {"teams-hmac", "jira", "github", "stripe", "slack", "shopify", "standard"}


def _no_dash(make: Callable[[], str]) -> str:
    """A secret that does not start with '-', so it pastes into any command line as an option value."""
    value = make()
    while value.startswith("-"):
        value = make()
    return value


def _secret_for(scheme: str) -> str:
    if scheme == "teams-hmac":
        return base64.b64encode(secrets.token_bytes(32)).decode()
    if scheme in ("stripe", "standard"):
        return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    return _no_dash(lambda: secrets.token_urlsafe(32))


def _write_private_key(folder: Path) -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    path = folder / "sendgrid-signing-key.pem"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    return str(path)


def generate_credentials(provider: Provider, folder: Path, token_url: str) -> Credentials:
    """Credentials for the provider's default scheme (plus OAuth where the provider lists it)."""
    default = provider.auth.schemes[0]
    wanted = {default} | ({OAUTH_SCHEME} & set(provider.auth.schemes))
    creds = Credentials()
    for scheme in wanted:
        if scheme in _HMAC_SCHEMES:
            creds = replace(creds, secret=_secret_for(scheme))
        elif scheme == "sendgrid-ecdsa":
            creds = replace(creds, signing_key=_write_private_key(folder))
        elif scheme == OAUTH_SCHEME:
            creds = replace(
                creds,
                token_url=token_url,
                client_id="webhook-harness-" + secrets.token_hex(4),
                client_secret=_no_dash(lambda: secrets.token_urlsafe(24)),
                oauth_credentials_in=provider.auth.oauth_credentials_in,
            )
        elif scheme == "basic":
            creds = replace(creds, basic=("harness", _no_dash(lambda: secrets.token_urlsafe(18))))
        elif scheme == "bearer":
            creds = replace(creds, bearer=_no_dash(lambda: secrets.token_urlsafe(32)))
        else:
            raise ConfigError(f"The reference receiver does not know the auth scheme {scheme!r} of {provider.id!r}.")
    return creds


def load_public_key(pem_path: str) -> ec.EllipticCurvePublicKey:
    """The P-256 public key of a private key PEM file (a real receiver holds only this half)."""
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
            raise ConfigError(f"{pem_path!r} is not a PEM EC P-256 key.") from None
        if not isinstance(public, ec.EllipticCurvePublicKey):
            raise ConfigError(f"{pem_path!r} is not an EC P-256 key.") from None
        return public
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ConfigError(f"{pem_path!r} is not an EC P-256 private key.")
    return key.public_key()


def public_key_b64(key: ec.EllipticCurvePublicKey) -> str:
    """Base64 DER SubjectPublicKeyInfo, the form SendGrid shows for its verification key."""
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode()
