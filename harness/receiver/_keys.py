"""Fresh credentials for a reference receiver, and the public half of a SendGrid signing key."""

from __future__ import annotations

from pathlib import Path

from harness.catalog import Provider
from harness.credentials import Credentials
from harness.signing import OAUTH_SCHEME, fresh_credentials
from harness.signing.keys import load_public_key, public_key_b64

__all__ = ["OAUTH_SCHEME", "generate_credentials", "load_public_key", "public_key_b64"]


def generate_credentials(provider: Provider, folder: Path, token_url: str) -> Credentials:
    """Credentials for the provider's default scheme (plus OAuth where the provider lists it)."""
    return fresh_credentials(provider, folder, token_url)
