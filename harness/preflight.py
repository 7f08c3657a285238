"""Before a run sends anything: credentials that fit the provider, and a receiver that can be reached at all."""

from __future__ import annotations

import socket
import ssl
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from harness.credentials import Credentials, redact_url
from harness.errors import TransportError, UsageError
from harness.network import NetworkOptions, tls_handshake, tls_reason
from harness.settings import validate_url

if TYPE_CHECKING:
    from harness.catalog import Provider

__all__ = ["check_credentials", "preflight"]

# Which option gives each credential field a scheme needs, for messages.
_OPTION_FOR = {
    "secret": "--secret",
    "signing_key": "--signing-key",
    "client_secret": "--token-url, --client-id and --client-secret",
    "basic": "--basic USER:PASS",
    "bearer": "--bearer",
}


def check_credentials(provider: Provider, creds: Credentials) -> None:
    """Credentials that can sign for this provider; ones it does not use are ignored (a stray env var is harmless)."""
    from harness.signing import active_schemes, scheme_for

    if "oauth2-client-credentials" in provider.auth.schemes and (creds.token_url or creds.client_id):
        if not (creds.token_url and creds.client_id and creds.client_secret):
            raise UsageError("OAuth needs --token-url, --client-id and a client secret together.")
    if active_schemes(provider, creds):
        return
    needs = []
    for name in provider.auth.schemes:
        option = _OPTION_FOR.get(scheme_for(provider, name).secret_field, "--secret")
        if option not in needs:
            needs.append(option)
    given = [_OPTION_FOR[f] for f in ("secret", "signing_key", "basic", "bearer") if getattr(creds, f)]
    extra = f" ({', '.join(given)} does not apply to {provider.id})" if given else ""
    wanted = needs[0] if len(needs) == 1 else "one of " + "; ".join(needs)
    raise UsageError(
        f"No credentials for {provider.id}: it needs {wanted}, or the matching environment variable{extra}."
    )


def preflight(url: str, *, timeout: float = 5.0, network: NetworkOptions | None = None) -> None:
    """Connect once, completing the TLS handshake for https: an unreachable receiver is the user's problem (exit 2).

    Through a proxy (``--proxy``, or ``--trust-env``) the proxy decides what is reachable, so only the URL is checked.
    """
    network = network or NetworkOptions()
    parts = urlsplit(validate_url(url))
    if network.proxy or network.trust_env:
        return
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            if parts.scheme == "https":
                with tls_handshake(sock, network, host, timeout) as tls:
                    _after_handshake(tls, url)
    except ssl.SSLError as exc:
        raise TransportError(f"Cannot reach the receiver at {redact_url(url)}: {tls_reason(exc)}.") from None
    except OSError as exc:
        reason = "connection refused" if isinstance(exc, ConnectionRefusedError) else (exc.strerror or str(exc))
        raise TransportError(f"Cannot reach the receiver at {redact_url(url)}: {reason}.") from None


def _after_handshake(tls: ssl.SSLSocket, url: str) -> None:
    """In TLS 1.3 a server refuses a missing client certificate only after the handshake: wait briefly for that."""
    tls.settimeout(0.2)
    try:
        closed = tls.recv(1) == b""
    except (TimeoutError, BlockingIOError):
        return  # the server waits for our request: all is well
    if closed:
        reason = (
            "the receiver closed the connection right after the TLS handshake; it may want a client certificate: "
            "give --client-cert/--client-key"
        )
        raise TransportError(f"Cannot reach the receiver at {redact_url(url)}: {reason}.")
