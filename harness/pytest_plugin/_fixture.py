"""The ``webhook`` fixture: signed deliveries and named checks from inside a user's own test."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import pytest

from harness.credentials import Credentials
from harness.pytest_plugin._options import Settings

if TYPE_CHECKING:
    from harness.catalog import Catalog, Provider
    from harness.core.models import Delivery, Reply
    from harness.engine.session import Session
    from harness.settings.resolve import RunConfig
    from harness.transport import Transport

__all__ = ["Webhook"]


class Webhook:
    """A configured provider: ``send`` deliveries (valid or forged) and ``check`` contract ids against one receiver.

    It runs through one engine ``Session`` built from the resolved settings (options > environment > config file),
    so its requests take the same network options (CA bundle, client certificate, proxy, headers) as the CLI's, and
    it refuses to send unsigned for want of credentials. A transport handed to it is closed when the test ends.
    """

    def __init__(
        self,
        provider: str | None = None,
        url: str | None = None,
        credentials: Credentials | None = None,
        *,
        settings: Settings | None = None,
        transport: Transport | None = None,
        seed: int | None = None,
    ) -> None:
        self._settings = settings
        self.provider_id = provider or (settings.provider if settings and settings.provider else None)
        self.url = url or (settings.url if settings and settings.url else None)
        self.credentials = credentials or (settings.credentials if settings else Credentials())
        self.transport = transport
        self.seed = seed if seed is not None else (settings.resolved_seed() if settings else 0)
        self._sent = 0
        self._session: Session | None = None
        self._handed: list[Transport] = [transport] if transport is not None else []

    @classmethod
    def from_request(cls, request: pytest.FixtureRequest, settings: Settings | None) -> Webhook:
        """Settings from options, env and config file, overridden by a ``@pytest.mark.webhook(...)`` marker."""
        if settings is None:
            from harness.pytest_plugin._options import settings_from

            settings = settings_from(request.config, require_target=False)
        marker = request.node.get_closest_marker("webhook")
        if marker is None:
            return cls(settings=settings)
        kwargs = dict(marker.kwargs)
        provider = marker.args[0] if marker.args else kwargs.pop("provider", None)
        creds = kwargs.pop("credentials", None)
        return cls(provider, kwargs.pop("url", None), creds, settings=settings, **kwargs)

    def configure(self, **changes: Any) -> Webhook:
        """Change provider, url, credentials, transport or seed for the rest of the test."""
        for name in ("url", "credentials", "transport", "seed"):
            if name in changes:
                setattr(self, name, changes.pop(name))
        if "provider" in changes:
            self.provider_id = changes.pop("provider")
        if changes:
            raise TypeError(f"unknown webhook settings: {', '.join(sorted(changes))}")
        if self.transport is not None and self.transport not in self._handed:
            self._handed.append(self.transport)
        self._close_session()
        return self

    def run_config(self) -> RunConfig:
        """The run configuration this fixture stands for (its settings with the test's changes)."""
        from harness.settings.resolve import RunConfig

        base = self._settings or RunConfig(provider=self.provider_id or "", url=self.url or "")
        return dataclasses.replace(
            base,
            provider=self.provider_id or "",
            url=self.url or "",
            credentials=self.credentials,
            seed=self.seed,
            transport=self.transport,
            catalog=base.catalog,
        )

    def session(self) -> Session:
        """The engine session for the current settings, opened on first use."""
        if self._session is None:
            from harness.engine.session import Session

            self._session = Session(dataclasses.replace(self.run_config(), catalog=self._catalog()))
        return self._session

    @property
    def provider(self) -> Provider:
        """The provider profile."""
        if not self.provider_id:
            raise pytest.UsageError("webhook fixture: no provider (give --webhook-provider or @pytest.mark.webhook).")
        return self._catalog().get(self.provider_id)

    def _catalog(self) -> Catalog:
        if self._session is not None:
            return self._session.catalog
        if self._settings is not None:
            return self._settings.resolved_catalog()
        from harness.catalog import load_catalog

        return load_catalog()

    def delivery(self, event: str | None = None, *, variant: str | None = None, signed: bool = True) -> Delivery:
        """A realistic delivery, signed with the configured credentials, or forged as ``variant``.

        Signing without credentials the provider can use is a one-line usage error, as on the command line.
        """
        from harness.errors import HarnessError
        from harness.signing import forge_delivery, sign_delivery
        from harness.volume import VolumeGenerator

        provider = self.provider
        session = self.session()
        self._sent += 1
        generator = VolumeGenerator(provider, seed=self.seed + self._sent)
        unsigned = next(iter(generator.deliveries(1, event=event)))
        if variant is not None:
            forged = forge_delivery(provider, unsigned, session.credentials, variant, url=self.url or None)
            if forged is None:
                pytest.skip(f"variant {variant!r} does not apply to {provider.id} with these credentials")
            return forged
        if not signed:
            return unsigned
        try:
            session.check_credentials()
        except HarnessError as exc:
            raise pytest.UsageError(f"webhook fixture: {exc}") from None
        return sign_delivery(provider, unsigned, session.credentials, url=self.url or None)

    def send(self, event: str | None = None, *, variant: str | None = None, delivery: Delivery | None = None) -> Reply:
        """Send one delivery to the receiver (with the session's network options) and return its reply."""
        if not self.url:
            raise pytest.UsageError("webhook fixture: no receiver URL (give --webhook-url or configure(url=...)).")
        delivery = delivery or self.delivery(event, variant=variant)
        session = self.session()
        timeout = session.config.timeout or self.provider.timeout
        return session.transport().send(delivery, self.url, timeout=timeout)

    def check(self, check_id: str, **options: Any) -> Any:
        """Run one named contract check; a failure raises its ContractViolation, a skip skips the test."""
        from harness.engine.runner import run_check

        if not self.url or not self.provider_id:
            raise pytest.UsageError("webhook fixture: check() needs a provider and a receiver URL.")
        if options:  # other settings for this one check: a session of their own
            outcome = run_check(dataclasses.replace(self.run_config(), catalog=self._catalog(), **options), check_id)
        else:  # the fixture's one session: its token clients, redactor and transport serve send() and check() alike
            session = self.session()
            outcome = run_check(session.config, check_id, context=session.context())
        if outcome.status == "skipped":
            pytest.skip("; ".join(outcome.notes) or f"{check_id} does not apply")
        if outcome.status == "failed":
            if len(outcome.violations) == 1:
                raise outcome.violations[0]
            from harness.violations import ViolationGroup

            raise ViolationGroup(f"{check_id}: {len(outcome.violations)} violations", list(outcome.violations))
        return outcome

    def _close_session(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            session.close()

    def close(self) -> None:
        """Close the session, and every in-process transport handed to the fixture: an ASGI app's lifespan ends here.

        An in-process transport starts again on its next use, so one shared by several tests keeps working.
        """
        from harness.transport.inprocess import InProcessTransport

        self._close_session()
        handed, self._handed = self._handed, []
        for transport in handed:
            if isinstance(transport, InProcessTransport):
                transport.close()
