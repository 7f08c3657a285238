"""Before a run sends anything: credentials that fit the provider, and a receiver that can be reached at all."""

from __future__ import annotations

import socket
import ssl
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from harness.credentials import redact_url
from harness.errors import TransportError
from harness.net.options import NetworkOptions, tls_handshake, tls_reason
from harness.settings.resolve import validate_url
from harness.signing.requirements import check_credentials, credential_hint, scheme_hint

if TYPE_CHECKING:
    pass

__all__ = ["check_credentials", "credential_hint", "preflight", "scheme_hint"]


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
