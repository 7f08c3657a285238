"""The engine session: one catalog, one set of credentials, one transport and probe, one preflight, one check context.

Every front end (the ``check`` command, the pytest plugin, the ``webhook`` fixture) opens one ``Session`` per run
and runs its checks through it, so inputs are validated and the receiver is reached once, however many checks run.
"""

from __future__ import annotations

import time
from types import TracebackType
from typing import TYPE_CHECKING, Any

from harness.credentials import Credentials, Redactor, register_secret, url_secrets
from harness.errors import UsageError
from harness.preflight import check_credentials, preflight
from harness.settings import RunConfig, run_budget, validate_url

if TYPE_CHECKING:
    from harness.catalog import Catalog, Provider
    from harness.checks import CheckContext

__all__ = ["Session"]


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
        from harness.checks import ordered_ids, resolve_severities, validate_settle_timeout

        known = ordered_ids()
        for name in [*self.config.checks, *self.config.exclude_checks]:
            if name not in known:
                raise UsageError(f"Unknown check {name!r}. Known: {', '.join(known)}.")
        resolve_severities(self.config.severities, self.config.strict)
        validate_settle_timeout(self.config.settle_timeout)
        self.provider  # noqa: B018 - an unknown provider is reported before anything runs
        chosen, skipped = self.config.checks, set(self.config.exclude_checks)
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
        timeout = config.timeout if config.timeout is not None else provider.timeout
        return CheckContext(
            provider=provider,
            catalog=self.catalog,
            url=config.url,
            credentials=config.credentials,
            transport=config.transport or RequestsTransport(network=config.network),
            timeout=timeout,
            probe=config.probe,
            seed=self.seed,
            max_examples=config.max_examples,
            callback_host=config.callback_host,
            redactor=self.redactor,
            deadline=time.monotonic() + run_budget(config, provider.timeout),
            state_probe=config.state_probe,
            state_fields=tuple(config.state_fields),
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

    probe = Delivery(provider.id, provider.method, {}, b"{}", (), (), url="https://probe.invalid/")  # {url} schemes
    for scheme in active_schemes(provider, creds):
        if scheme.signs_body == local:
            scheme.sign(provider, probe, creds, time.time())
