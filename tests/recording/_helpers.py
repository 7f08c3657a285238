"""Helpers for the recording tests: a recorder in front of (or beside) the reference receiver, and signed sends."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from harness.catalog import Provider, load_catalog
from harness.core.models import Delivery, Reply
from harness.credentials import Credentials
from harness.recording import Record, read_records
from harness.signing import sign_delivery
from harness.transport import RequestsTransport
from harness.volume import VolumeGenerator

CATALOG = load_catalog()
PROVIDERS = [p.id for p in CATALOG]
TIMEOUT = 10.0


def unsigned(provider: Provider, n: int = 3, *, seed: int = 7, event: str | None = None) -> list[Delivery]:
    """Valid unsigned deliveries with distinct keys."""
    return list(VolumeGenerator(provider, seed=seed).deliveries(n, event=event))


def send_all(
    provider: Provider, deliveries: Sequence[Delivery], creds: Credentials, url: str, *, now: float | None = None
) -> list[tuple[Delivery, Reply]]:
    """Sign each delivery as the provider would (at ``now``) and send it."""
    transport = RequestsTransport()
    out = []
    for delivery in deliveries:
        signed = sign_delivery(provider, delivery, creds, now=now, url=url)
        out.append((signed, transport.send(signed, url, timeout=TIMEOUT)))
    return out


def records(path: Path) -> list[Record]:
    """Every record in a file."""
    return list(read_records(path))


@dataclass
class CapturingTransport:
    """Sends with requests and keeps what went out, so a test can compare bytes."""

    sent: list[Delivery] = field(default_factory=list)
    inner: RequestsTransport = field(default_factory=RequestsTransport)

    def send(self, delivery: Delivery, url: str, *, timeout: float) -> Reply:
        """Remember, then send."""
        self.sent.append(delivery)
        return self.inner.send(delivery, url, timeout=timeout)
