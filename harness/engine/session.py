"""The engine session: one catalog, one set of credentials, one transport and probe, one preflight, one check context.

Every front end (the ``check`` command, the pytest plugin, the ``webhook`` fixture) opens one ``Session`` per run
and runs its checks through it, so inputs are validated and the receiver is reached once, however many checks run.
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from types import TracebackType
from typing import TYPE_CHECKING, Any

from harness.credentials import Credentials, Redactor, url_secrets
from harness.errors import HarnessWarning, UsageError
from harness.preflight import check_credentials, preflight
from harness.settings.resolve import RunConfig, run_budget, validate_url

if TYPE_CHECKING:
    from harness.catalog import Catalog, Provider
    from harness.checks import CheckContext
    from harness.transport import Transport

__all__ = ["Session"]


class Session:
    """One run's engine, built from a ``RunConfig``: it owns the catalog, the redactor, the network options, the
    transports, the OAuth token clients, the SNS certificate server and the probe, so two sessions in one process
    never share any of them.

    ``context()`` preflights on first use; ``close()`` (or leaving the ``with`` block) releases what it opened.
    """

    def __init__(self, config: RunConfig) -> None:
        from harness.signing import CertificateServer
        from harness.signing.oauth import TokenClients

        self.config = config
        self._context: CheckContext | None = None
        self._provider: Provider | None = None
        self._catalog: Catalog | None = config.catalog
        self._transports: list[Transport] = []
        self.network = config.network
        self.probe = config.probe
        self.redactor = Redactor([*config.credentials.secrets(), *config.network.secrets(), *url_secrets(config.url)])
        self.tokens = TokenClients(config.network, on_token=self.redactor.add)  # fetched tokens are secrets too
        # The loopback server of SNS's signing certificates and SubscribeURLs: it opens its socket only when the run
        # signs an SNS message (provider aws-sns) and stops with the session; the credentials carry it to the signer.
        self.certificates = CertificateServer()
        self.credentials = dataclasses.replace(config.credentials, tokens=self.tokens, certificates=self.certificates)
        self._issuer: Any = None  # the OIDC issuer a run serves (oidc-token with a loopback auth.oidc.issuer)

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

    @property
    def catalog(self) -> Catalog:
        """The catalog, loaded once."""
        if self._catalog is None:
            self._catalog = self.config.resolved_catalog()
        return self._catalog

    @property
    def provider(self) -> Provider:
        """The provider profile, as the endpoint sees it: its subscribed event types, its delivery encoding."""
        if not self.config.provider:
            raise UsageError(
                "No provider: name one (the PROVIDER argument, WEBHOOK_HARNESS_PROVIDER, "
                "or provider in the config file)."
            )
        if self._provider is None:
            provider = self.catalog.get(self.config.provider)
            if self.config.events:
                provider, unknown = provider.subscribed(self.config.events)
                if unknown:
                    names = self.catalog.get(self.config.provider).ordinary_events
                    known = ", ".join(names[:20]) + (f" ... ({len(names)} in all)" if len(names) > 20 else "")
                    warnings.warn(
                        f"Unknown event type(s) for {provider.id} given to --event: {', '.join(unknown)} "
                        f"(ignored; known: {known}).",
                        HarnessWarning,
                        stacklevel=2,
                    )
            else:
                provider = provider.sampled()  # a large catalog: its common types and a fixed seeded sample
            if self.config.content_type:
                provider = provider.encoded_as(self.config.content_type)
            self._provider = provider
        return self._provider

    @property
    def seed(self) -> int:
        """The run's seed (drawn once, when the config was resolved)."""
        return self.config.resolved_seed()

    def check_credentials(self) -> None:
        """Credentials that can sign for the provider, or a one-line error naming the options and variables."""
        check_credentials(self.provider, self.credentials)

    def transport(self) -> Transport:
        """The given transport, or a requests transport with the session's network options (closed with the session)."""
        if self.config.transport is not None:
            return self.config.transport
        from harness.transport import RequestsTransport

        transport = RequestsTransport(network=self.network)
        self._transports.append(transport)
        return transport

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

        config = self.config
        provider = self.provider
        self.check_credentials()
        if config.transport is None:
            validate_url(config.url)
        _sign_probe(provider, self.credentials, local=True)
        self._serve_issuer(provider)
        self.preflight()
        _sign_probe(provider, self.credentials, local=False)
        timeout = config.timeout if config.timeout is not None else provider.timeout
        return CheckContext(
            provider=provider,
            catalog=self.catalog,
            url=config.url,
            credentials=self.credentials,
            transport=self.transport(),
            timeout=timeout,
            probe=self.probe,
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

    def _serve_issuer(self, provider: Provider) -> None:
        """Serve the OIDC issuer's discovery document and keys for the run, where the profile names a loopback one."""
        from harness.signing.issuer import issuer_for

        if self._issuer is None:
            server = issuer_for(provider, self.credentials)
            if server is not None:
                self._issuer = server.__enter__()

    def close(self) -> None:
        """Release the transports this session created (and stop the OIDC issuer and certificate server it served)."""
        self.certificates.close()
        issuer, self._issuer = self._issuer, None
        if issuer is not None:
            issuer.__exit__(None, None, None)
        transports, self._transports = self._transports, []
        for transport in transports:
            close = getattr(transport, "close", None)
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
