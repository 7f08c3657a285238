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
    from harness.transport import Transport

__all__ = ["Webhook"]


class Webhook:
    """A configured provider: ``send`` deliveries (valid or forged) and ``check`` contract ids against one receiver."""

    def __init__(
        self,
        provider: str | None = None,
        url: str | None = None,
        credentials: Credentials | None = None,
        *,
        settings: Settings | None = None,
        transport: Transport | None = None,
        seed: int = 0,
    ) -> None:
        self._settings = settings
        self.provider_id = provider or (settings.provider if settings and settings.provider else None)
        self.url = url or (settings.url if settings and settings.url else None)
        self.credentials = credentials or (settings.credentials if settings else Credentials())
        self.transport = transport
        self.seed = (settings.seed or 0) if settings and seed == 0 else seed
        self._sent = 0
        self._owned_transport = False

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
        return self

    @property
    def provider(self) -> Provider:
        """The provider profile."""
        if not self.provider_id:
            raise pytest.UsageError("webhook fixture: no provider (give --webhook-provider or @pytest.mark.webhook).")
        return self._catalog().get(self.provider_id)

    def _catalog(self) -> Catalog:
        if self._settings is not None:
            return self._settings.resolved_catalog()
        from harness.catalog import load_catalog

        return load_catalog()

    def _transport(self) -> Transport:
        if self.transport is None:
            from harness.transport import RequestsTransport

            self.transport = RequestsTransport()
            self._owned_transport = True
        return self.transport

    def delivery(self, event: str | None = None, *, variant: str | None = None, signed: bool = True) -> Delivery:
        """A realistic delivery, signed with the configured credentials, or forged as ``variant``."""
        from harness.signing import forge_delivery, sign_delivery
        from harness.volume import VolumeGenerator

        provider = self.provider
        self._sent += 1
        generator = VolumeGenerator(provider, seed=self.seed + self._sent)
        unsigned = next(iter(generator.deliveries(1, event=event)))
        if variant is not None:
            forged = forge_delivery(provider, unsigned, self.credentials, variant, url=self.url or None)
            if forged is None:
                pytest.skip(f"variant {variant!r} does not apply to {provider.id} with these credentials")
            return forged
        return sign_delivery(provider, unsigned, self.credentials, url=self.url or None) if signed else unsigned

    def send(self, event: str | None = None, *, variant: str | None = None, delivery: Delivery | None = None) -> Reply:
        """Send one delivery to the receiver and return its reply."""
        if not self.url:
            raise pytest.UsageError("webhook fixture: no receiver URL (give --webhook-url or configure(url=...)).")
        delivery = delivery or self.delivery(event, variant=variant)
        return self._transport().send(delivery, self.url, timeout=self.provider.timeout)

    def check(self, check_id: str, **options: Any) -> Any:
        """Run one named contract check; a failure raises its ContractViolation, a skip skips the test."""
        from harness.runner import RunConfig, run_check

        if not self.url or not self.provider_id:
            raise pytest.UsageError("webhook fixture: check() needs a provider and a receiver URL.")
        base = self._settings or RunConfig(provider=self.provider_id, url=self.url)
        config = dataclasses.replace(
            base,
            provider=self.provider_id,
            url=self.url,
            credentials=self.credentials,
            catalog=self._catalog(),
            seed=self.seed,
            transport=self.transport,
            **options,
        )
        outcome = run_check(config, check_id)
        if outcome.status == "skipped":
            pytest.skip("; ".join(outcome.notes) or f"{check_id} does not apply")
        if outcome.status == "failed":
            if len(outcome.violations) == 1:
                raise outcome.violations[0]
            from harness.violations import ViolationGroup

            raise ViolationGroup(f"{check_id}: {len(outcome.violations)} violations", list(outcome.violations))
        return outcome

    def close(self) -> None:
        """Release the transport the fixture created."""
        close = getattr(self.transport, "close", None)
        if self._owned_transport and callable(close):
            close()
