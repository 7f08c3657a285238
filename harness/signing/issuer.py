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
import threading
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

from harness.catalog import Provider
from harness.credentials import Credentials
from harness.errors import UsageError
from harness.signing._oidc import jwks, key_id
from harness.signing.keys import rsa_private_key

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
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "webhook-harness OIDC issuer")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .sign(key, hashes.SHA256())
    )
    return key_id(key.public_key()), cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


class IssuerServer:
    """The discovery document, JWKS and certificate map over HTTP, from a background thread; use as a context."""

    def __init__(self, creds: Credentials, host: str = "127.0.0.1", port: int = 0) -> None:
        documents: dict[str, Any] = {JWKS_PATH: jwks(creds), CERTS_PATH: certificates(creds)}

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                document = documents.get(self.path.partition("?")[0])
                body = json.dumps(document).encode() if document is not None else b'{"error": "not found"}'
                self.send_response(200 if document is not None else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "public, max-age=300")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        try:
            self.server = ThreadingHTTPServer((host, port), Handler)
        except (OSError, OverflowError) as exc:
            reason = getattr(exc, "strerror", None) or exc
            raise UsageError(f"Cannot serve the OIDC issuer on {host}:{port}: {reason}.") from None
        shown = f"[{host}]" if ":" in host else host
        self._documents = documents
        self.issuer = f"http://{shown}:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, name="oidc-issuer", daemon=True)

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
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)


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
