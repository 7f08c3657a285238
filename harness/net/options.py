"""How the harness reaches peers: TLS trust, client certificates, the proxy policy and gateway headers.

One proxy policy for all traffic (deliveries, OAuth token requests, HTTP probes): no proxy, and nothing taken from
the environment (``HTTP(S)_PROXY``, ``NO_PROXY``, ``REQUESTS_CA_BUNDLE``, ``.netrc``), unless ``trust_env`` is set;
``proxy`` names one explicitly. Light to import: the ``requests`` side lives in ``harness.net.fetch``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from harness.core.settings_table import parse_header
from harness.credentials import looks_secret, url_secrets
from harness.errors import UsageError

if TYPE_CHECKING:  # ssl, socket and select are imported where used: `--help` and `providers` need none of them
    import socket
    import ssl

__all__ = ["NETWORK_KEYS", "NetworkOptions", "parse_header", "resolve_network", "tls_handshake", "tls_reason"]

NETWORK_KEYS = ("ca_bundle", "client_cert", "client_key", "insecure", "proxy", "trust_env", "headers")
"""The network settings' names, shared by the CLI options (``--ca-bundle``...) and the config file."""


@dataclass(frozen=True, slots=True)
class NetworkOptions:
    """TLS, proxy and extra-header settings shared by every transport, the token client and the HTTP probe."""

    ca_bundle: str | None = None
    client_cert: str | None = None
    client_key: str | None = None
    insecure: bool = False
    proxy: str | None = None
    trust_env: bool = False
    headers: tuple[tuple[str, str], ...] = field(default=())

    def __post_init__(self) -> None:
        if self.insecure and self.ca_bundle:
            raise UsageError("Give --ca-bundle or --insecure, not both.")
        if self.client_key and not self.client_cert:
            raise UsageError("--client-key needs --client-cert.")
        for option, path in (
            ("--ca-bundle", self.ca_bundle),
            ("--client-cert", self.client_cert),
            ("--client-key", self.client_key),
        ):
            if path and not os.path.isfile(path):
                raise UsageError(f"{option} {path}: no such file.")
        if self.proxy:
            try:
                parts = urlsplit(self.proxy)
                parts.port  # noqa: B018 - a bad port raises here
            except ValueError:
                raise UsageError("Invalid --proxy: write http://host:port.") from None
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise UsageError("Invalid --proxy: write http://host:port (or https://).")

    @property
    def verify(self) -> bool | str:
        """``requests``' verify argument."""
        return False if self.insecure else (self.ca_bundle or True)

    @property
    def cert(self) -> str | tuple[str, str] | None:
        """``requests``' cert argument."""
        if not self.client_cert:
            return None
        return (self.client_cert, self.client_key) if self.client_key else self.client_cert

    @property
    def proxies(self) -> dict[str, str]:
        """``requests``' proxies argument: the explicit proxy, or none."""
        return {"http": self.proxy, "https": self.proxy} if self.proxy else {}

    def secrets(self) -> list[str]:
        """Values that must never be printed: secret-looking gateway headers, the proxy's password."""
        return [value for name, value in self.headers if looks_secret(name)] + url_secrets(self.proxy)

    def with_headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        """The gateway headers, then ``headers`` (which win: the signed delivery is sent as built)."""
        given = {name.lower() for name in headers}
        return {**{n: v for n, v in self.headers if n.lower() not in given}, **headers}

    def ssl_context(self) -> ssl.SSLContext:
        """An SSL context with these settings (aiohttp, the TLS preflight)."""
        import ssl

        cafile = self.ca_bundle
        if cafile is None and self.trust_env:
            cafile = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("SSL_CERT_FILE") or None
        context = ssl.create_default_context(cafile=cafile)
        if self.insecure:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        if self.client_cert:
            try:
                context.load_cert_chain(self.client_cert, self.client_key)
            except (ssl.SSLError, OSError) as exc:
                raise UsageError(f"--client-cert/--client-key cannot be loaded ({exc.__class__.__name__}).") from None
        return context


def resolve_network(
    options: Mapping[str, Any], config: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None
) -> NetworkOptions:
    """Network options by the settings table's precedence: an explicit option, then the environment, then the file.

    ``options["headers"]`` is a list of ``'Name: value'`` texts (``--header``); the config file's ``headers`` is a
    table of names to values. Headers merge across sources by name, the higher source winning.
    """
    from harness.core.settings_table import by_name, resolve_values

    env = os.environ if env is None else env
    values = resolve_values([by_name(k) for k in NETWORK_KEYS], options, env=env, config=config or {})
    return NetworkOptions(**values)


def tls_handshake(sock: socket.socket, network: NetworkOptions, host: str, timeout: float) -> ssl.SSLSocket:
    """Complete a TLS handshake on ``sock`` within ``timeout`` overall (a peer dripping its handshake cannot stall us).

    Raises ``ssl.SSLError`` for a certificate or protocol failure and ``TimeoutError`` past the deadline.
    """
    import select
    import ssl

    deadline = time.monotonic() + timeout
    tls = network.ssl_context().wrap_socket(sock, server_hostname=host, do_handshake_on_connect=False)
    tls.setblocking(False)
    while True:
        try:
            tls.do_handshake()
            break
        except ssl.SSLWantReadError:
            readers, writers = [tls], []
        except ssl.SSLWantWriteError:
            readers, writers = [], [tls]
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not any(select.select(readers, writers, [], remaining)):
            tls.close()
            raise TimeoutError(f"the TLS handshake did not finish within {timeout:g}s")
    tls.settimeout(timeout)
    return tls


def tls_reason(exc: BaseException) -> str:
    """A TLS failure in words, with the option that fixes it."""
    text = str(exc)
    if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
        detail = "hostname mismatch" if "Hostname mismatch" in text or "match" in text else "not trusted"
        return f"TLS certificate {detail}: give --ca-bundle PATH with the CA that signed it (or --insecure)"
    if "WRONG_VERSION_NUMBER" in text or "record layer failure" in text or "packet length too long" in text:
        return "the port does not speak TLS: use http:// for a plain-HTTP receiver"
    if "CERTIFICATE_REQUIRED" in text or "certificate required" in text or "HANDSHAKE_FAILURE" in text:
        return "TLS handshake refused, the receiver may want a client certificate: give --client-cert/--client-key"
    return "TLS handshake failed: check --ca-bundle, --client-cert/--client-key or the URL's scheme"
