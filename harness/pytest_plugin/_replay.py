"""Recordings as parametrized tests: one ``pytest.param`` per recorded delivery, replayed through the engine."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from harness.catalog import Provider
    from harness.core.models import Delivery, Reply
    from harness.credentials import Credentials
    from harness.pytest_plugin._fixture import Webhook
    from harness.recording import Record

__all__ = ["ReplayCase", "replay_params"]


@dataclass(frozen=True)
class ReplayCase:
    """One recorded delivery; ``send(webhook)`` replays it re-signed for now with the fixture's credentials."""

    record: Record
    number: int

    def delivery(
        self, provider: Provider, credentials: Credentials, *, now: float | None = None, url: str | None = None
    ) -> Delivery:
        """The recorded bytes and key, with a fresh timestamp and signature (for ``url``, where a scheme signs it)."""
        from harness.recording import resign, to_delivery

        at = time.time() if now is None else now
        return resign(provider, to_delivery(provider, self.record), credentials, at, url)

    def send(self, webhook: Webhook) -> Reply:
        """Replay through the ``webhook`` fixture (its provider, or the one the record names)."""
        from harness.recording import require_credentials

        if not webhook.provider_id and self.record.provider:
            webhook.configure(provider=self.record.provider)
        provider = webhook.provider
        require_credentials(provider, webhook.credentials)
        return webhook.send(delivery=self.delivery(provider, webhook.credentials, url=webhook.url))


def _label(record: Record, number: int) -> str:
    from harness.catalog import load_catalog
    from harness.recording import event_types_of, parse_body

    providers = load_catalog().providers
    provider = providers.get(record.provider or "")
    if provider is not None:
        types = event_types_of(provider, dict(record.headers), parse_body(record.body, provider))
        if types:
            return f"{number}-{types[0]}"
    return f"{number}-{record.method}"


def replay_params(path: str | Path) -> list[Any]:
    """One ``pytest.param(ReplayCase)`` per delivery in a recording (JSON Lines or HAR), ids ``N-event``."""
    from harness.errors import HarnessError
    from harness.recording import read_records

    try:
        records = list(read_records(path))
    except HarnessError as exc:
        raise pytest.UsageError(f"webhook-harness: {exc}") from None
    return [pytest.param(ReplayCase(r, n), id=_label(r, n)) for n, r in enumerate(records, 1)]
