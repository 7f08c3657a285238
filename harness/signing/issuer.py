"""The harness as an OIDC issuer: the documents a receiver fetches to verify the tokens ``oidc-token`` mints.

``IssuerServer`` serves them over HTTP (on 127.0.0.1 by default): the discovery document
(``/.well-known/openid-configuration``), the JWKS (``/oauth2/v3/certs``, what PyJWT and google-auth read) and Google's
older map of key ids to X.509 certificates (``/oauth2/v1/certs``). A receiver configured with the server's issuer
URL verifies the harness's tokens exactly as it verifies Google's.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
from collections.abc import Mapping
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from harness.catalog import Provider
from harness.credentials import Credentials
from harness.signing._oidc import jwks, key_id
from harness.signing._serve import LoopbackServer
from harness.signing.keys import rsa_private_key, self_signed

__all__ = [
    "CERTS_PATH",
    "DISCOVERY_PATH",
    "JWKS_PATH",
    "IssuerServer",
    "certificates",
    "discovery",
    "issuer_for",
    "jwks",
]

DISCOVERY_PATH = "/.well-known/openid-configuration"
JWKS_PATH = "/oauth2/v3/certs"
CERTS_PATH = "/oauth2/v1/certs"


def discovery(issuer: str) -> dict[str, Any]:
    """The OpenID Provider metadata a receiver reads to find the keys (OpenID Connect Discovery 1.0)."""
    base = issuer.rstrip("/")
    return {
        "issuer": issuer,
        "jwks_uri": base + JWKS_PATH,
        "response_types_supported": ["id_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "claims_supported": ["aud", "azp", "email", "email_verified", "exp", "iat", "iss", "sub"],
    }


def certificates(creds: Credentials) -> dict[str, str]:
    """Key id to a self-signed PEM certificate of the signing key: the shape of Google's ``oauth2/v1/certs``."""
    return dict([_certificate(creds.signing_key or "")])


@lru_cache(maxsize=8)
def _certificate(signing_key: str) -> tuple[str, str]:
    key = rsa_private_key(signing_key)
    pem = self_signed(key, "webhook-harness OIDC issuer", datetime.timedelta(minutes=5), datetime.timedelta(days=2))
    return key_id(key.public_key()), pem.decode("ascii")


class IssuerServer:
    """The discovery document, JWKS and certificate map over HTTP, from a background thread; use as a context."""

    def __init__(self, creds: Credentials, host: str = "127.0.0.1", port: int = 0) -> None:
        self._documents: dict[str, Any] = {JWKS_PATH: jwks(creds), CERTS_PATH: certificates(creds)}
        self.server = LoopbackServer(self._answer, host=host, port=port, name="oidc-issuer", what="the OIDC issuer")
        shown = f"[{host}]" if ":" in host else host
        self.issuer = f"http://{shown}:{self.server.port}"

    def _answer(self, path: str) -> tuple[int, bytes, Mapping[str, str]]:
        """The document at the path (its query ignored) as JSON, or a JSON 404."""
        document = self._documents.get(path.partition("?")[0])
        body = json.dumps(document).encode() if document is not None else b'{"error": "not found"}'
        headers = {"Content-Type": "application/json", "Cache-Control": "public, max-age=300"}
        return 200 if document is not None else 404, body, headers

    @property
    def jwks_url(self) -> str:
        """Where the JWKS is served."""
        return self.issuer + JWKS_PATH

    @property
    def certs_url(self) -> str:
        """Where the key id to certificate map is served."""
        return self.issuer + CERTS_PATH

    def __enter__(self) -> IssuerServer:
        self._documents[DISCOVERY_PATH] = discovery(self.issuer)  # names the issuer as configured (localhost too)
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.close()


def issuer_for(provider: Provider, creds: Credentials) -> IssuerServer | None:
    """The issuer a run serves: where an active ``oidc-token`` scheme's ``auth.oidc.issuer`` is a loopback
    ``http://HOST:PORT`` URL (no path), a server there for the run; otherwise None (the issuer is hosted elsewhere).
    """
    from harness.signing import active_schemes

    spec = provider.auth.oidc
    if spec is None or not any(s.name == "oidc-token" for s in active_schemes(provider, creds)):
        return None
    try:
        parts = urlsplit(spec.issuer)
        port = parts.port
    except ValueError:
        return None
    host = parts.hostname or ""
    if parts.scheme != "http" or port is None or parts.path not in ("", "/") or parts.query or not _loopback(host):
        return None
    server = IssuerServer(creds, host="127.0.0.1" if host == "localhost" else host, port=port)
    server.issuer = spec.issuer.rstrip("/")
    return server


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
