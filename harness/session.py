"""The engine session: one catalog, one set of credentials, one transport and probe, one preflight, one check context.

Every front end (the ``check`` command, the pytest plugin, the ``webhook`` fixture) opens one ``Session`` per run
and runs its checks through it, so inputs are validated and the receiver is reached once, however many checks run.
"""

from __future__ import annotations

import socket
import ssl
import time
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from harness.credentials import Credentials, Redactor, redact_url, register_secret, url_secrets
from harness.errors import TransportError, UsageError
from harness.settings import RunConfig, validate_url
from harness.transport._network import NetworkOptions, tls_handshake, tls_reason

if TYPE_CHECKING:
    from harness.catalog import Catalog, Provider
    from harness.checks import CheckContext

__all__ = ["Session", "check_credentials", "preflight"]

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
    from harness.signing import SCHEMES, active_schemes

    if "oauth2-client-credentials" in provider.auth.schemes and (creds.token_url or creds.client_id):
        if not (creds.token_url and creds.client_id and creds.client_secret):
            raise UsageError("OAuth needs --token-url, --client-id and a client secret together.")
    if active_schemes(provider, creds):
        return
    needs = []
    for name in provider.auth.schemes:
        option = _OPTION_FOR.get(SCHEMES.get(name).secret_field, "--secret")
        if option not in needs:
            needs.append(option)
    given = [_OPTION_FOR[f] for f in ("secret", "signing_key", "basic", "bearer") if getattr(creds, f)]
    extra = f" ({', '.join(given)} does not apply to {provider.id})" if given else ""
    raise UsageError(
        f"No credentials for {provider.id}: it needs {' or '.join(needs)}, or the matching environment variable{extra}."
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


class Session:
    """One contract run's engine: built once from a ``RunConfig``; ``context()`` preflights on first use."""

    def __init__(self, config: RunConfig) -> None:
        from harness.signing.oauth import use_network

        self.config = config
        self._context: CheckContext | None = None
        for secret in url_secrets(config.url):
            register_secret(secret)  # a receiver may echo the Basic header the URL's user-info becomes
        use_network(config.network)
        self.redactor = Redactor(config.credentials.secrets())

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

    @property
    def catalog(self) -> Catalog:
        """The catalog, loaded once."""
        return self.config.resolved_catalog()

    @property
    def provider(self) -> Provider:
        """The provider profile."""
        return self.catalog.get(self.config.provider)

    @property
    def seed(self) -> int:
        """The run's seed, drawn once."""
        return self.config.resolved_seed()

    def plan(self) -> list[str]:
        """The selected check ids, in stable order; an unknown id is a usage error."""
        from harness.checks import ordered_ids

        known = ordered_ids()
        for name in [*self.config.checks, *self.config.exclude_checks, *self.config.severities]:
            if name not in known:
                raise UsageError(f"Unknown check {name!r}. Known: {', '.join(known)}.")
        self.provider  # noqa: B018 - an unknown provider is reported before anything runs
        off = {name for name, level in self.config.severities.items() if level == "off"}
        skipped = off | set(self.config.exclude_checks)
        chosen = self.config.checks
        return [c for c in known if (not chosen or c in chosen) and c not in skipped]

    def context(self) -> CheckContext:
        """The check context, built once: inputs validated, the receiver reached, tokens fetched."""
        if self._context is None:
            self._context = self._open()
        return self._context

    def _open(self) -> CheckContext:
        from harness.checks import CheckContext
        from harness.transport import RequestsTransport

        config = self.config
        provider = self.provider
        check_credentials(provider, config.credentials)
        if config.transport is None:
            validate_url(config.url)
        _sign_probe(provider, config.credentials, local=True)
        self.preflight()
        _sign_probe(provider, config.credentials, local=False)
        return CheckContext(
            provider=provider,
            catalog=self.catalog,
            url=config.url,
            credentials=config.credentials,
            transport=config.transport or RequestsTransport(network=config.network),
            timeout=config.timeout if config.timeout is not None else provider.timeout,
            probe=config.probe,
            seed=self.seed,
            max_examples=config.max_examples,
            callback_host=config.callback_host,
            redactor=self.redactor,
        )

    def preflight(self) -> None:
        """A receiver that cannot be reached at all is the user's problem (exit 2), not a finding."""
        if self.config.preflight and self.config.transport is None:
            preflight(self.config.url, network=self.config.network)

    def close(self) -> None:
        """Release the transport this session created."""
        if self._context is not None and self.config.transport is None:
            close = getattr(self._context.transport, "close", None)
            if callable(close):
                close()


def _sign_probe(provider: Any, creds: Credentials, *, local: bool) -> None:
    """Load keys and decode secrets (``local``), or fetch an OAuth token: a bad credential is one line, up front."""
    from harness.core.models import Delivery
    from harness.signing import active_schemes

    probe = Delivery(provider.id, provider.method, {}, b"{}", (), ())
    for scheme in active_schemes(provider, creds):
        if scheme.signs_body == local:
            scheme.sign(provider, probe, creds, time.time())
