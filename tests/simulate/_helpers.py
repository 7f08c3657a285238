"""Shared helpers for the simulator tests: the catalog, policies, and fake senders."""

from __future__ import annotations

from collections.abc import Callable

from harness.catalog import load_catalog
from harness.core.models import Delivery, Reply
from harness.simulate import RetryPolicy

CATALOG = load_catalog()
H = 3600.0

Send = Callable[[list[tuple[Delivery, str]], float], list[Reply]]


def policy(provider: str, **overrides: object) -> RetryPolicy:
    """The provider's profile policy, with ``retry`` overrides."""
    return RetryPolicy.from_profile(CATALOG.get(provider), overrides)


def answering(reply: Callable[[Delivery], Reply], seen: list[Delivery] | None = None) -> Send:
    """A fake sender: answers each delivery with ``reply(delivery)``, recording what it got."""

    def send(items: list[tuple[Delivery, str]], timeout: float) -> list[Reply]:
        if seen is not None:
            seen.extend(d for d, _ in items)
        return [reply(d) for d, _ in items]

    return send
