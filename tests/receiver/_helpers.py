"""Helpers for the reference receiver's tests: build, sign and send deliveries with requests."""

from __future__ import annotations

import requests

from harness.catalog import Provider, load_catalog
from harness.core.models import Delivery
from harness.receiver import ReferenceReceiver
from harness.signing import forge_delivery, sign_delivery
from harness.volume import VolumeGenerator

CATALOG = load_catalog()
PROVIDERS = [p.id for p in CATALOG]
TIMEOUT = 10.0


def deliveries(provider: Provider, n: int = 1, *, seed: int = 7, event: str | None = None) -> list[Delivery]:
    """Valid unsigned deliveries with distinct idempotency keys (seeded)."""
    return list(VolumeGenerator(provider, seed=seed).deliveries(n, event=event))


def delivery(provider: Provider, *, seed: int = 7, event: str | None = None) -> Delivery:
    """One valid unsigned delivery."""
    return deliveries(provider, 1, seed=seed, event=event)[0]


def send(rx: ReferenceReceiver, delivery: Delivery, *, body: bytes | None = None) -> requests.Response:
    """POST the delivery (headers, body, URL user-info) to the receiver."""
    auth = delivery.url_userinfo
    return requests.post(
        rx.url,
        data=delivery.body if body is None else body,
        headers=dict(delivery.headers),
        auth=auth,
        timeout=TIMEOUT,
        allow_redirects=False,
    )


def signed(rx: ReferenceReceiver, delivery: Delivery, *, now: float | None = None) -> Delivery:
    """The delivery authenticated with the receiver's credentials for its URL (harness.signing, tested separately)."""
    return sign_delivery(rx.provider, delivery, rx.credentials, now=now, url=rx.url)


def forged(rx: ReferenceReceiver, delivery: Delivery, variant: str) -> Delivery:
    """A negative variant of the delivery."""
    out = forge_delivery(rx.provider, delivery, rx.credentials, variant, url=rx.url)
    assert out is not None, variant
    return out


def count(rx: ReferenceReceiver, key: str) -> int:
    """The probe's answer for one idempotency key."""
    url = rx.probe_url.replace("{event_id}", requests.utils.quote(key, safe=""))
    answer = requests.get(url, timeout=TIMEOUT)
    assert answer.status_code == 200
    return int(answer.json()["count"])
