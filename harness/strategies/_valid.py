"""Valid payloads and deliveries, compiled once per (provider, event type, clock)."""

from __future__ import annotations

import random
from typing import Any

from hypothesis import strategies as st

from harness.catalog import Catalog, Provider, load_catalog
from harness.core.models import Delivery
from harness.core.pointers import MISSING, resolve_pointer
from harness.deliveries import build_delivery
from harness.strategies._compile import compile_schema

__all__ = ["MAX_BATCH", "deliveries", "event_strategy", "event_types", "payloads", "provider_of", "typed_payloads"]

MAX_BATCH = 5  # events per generated batch: enough to exercise batching, small enough to shrink and read
_CACHE_LIMIT = 1024
_STRATEGIES: dict[tuple[int, str, float | None], tuple[Provider, st.SearchStrategy[Any]]] = {}


def provider_of(provider: str | Provider, catalog: Catalog | None = None) -> Provider:
    """A Provider from an id (looked up in ``catalog`` or the default catalog) or a Provider itself."""
    if isinstance(provider, Provider):
        return provider
    return (catalog if catalog is not None else load_catalog()).get(provider)


def event_strategy(provider: Provider, event: str, now: float | None = None) -> st.SearchStrategy[Any]:
    """The compiled strategy for one event type's schema (cached)."""
    key = (id(provider), event, now)
    cached = _STRATEGIES.get(key)
    if cached is not None and cached[0] is provider:
        return cached[1]
    schema = provider.event(event).schema
    strategy = compile_schema(schema, provider.registry.resolver(base_uri=schema.get("$id", "")), now=now)
    if len(_STRATEGIES) >= _CACHE_LIMIT:
        _STRATEGIES.clear()
    _STRATEGIES[key] = (provider, strategy)
    return strategy


def event_types(provider: str | Provider, *, catalog: Catalog | None = None) -> st.SearchStrategy[str]:
    """One of the provider's ordinary (non-handshake) event types; shrinks towards the first listed."""
    return st.sampled_from(provider_of(provider, catalog).ordinary_events)


def typed_payloads(
    provider: Provider, event: str | None = None, now: float | None = None
) -> st.SearchStrategy[tuple[str, Any]]:
    """(event type, payload) pairs, of ``event`` or of any ordinary event type."""
    names = [event] if event is not None else provider.ordinary_events
    return st.one_of([st.tuples(st.just(name), event_strategy(provider, name, now)) for name in names])


def payloads(
    provider: str | Provider, event: str | None = None, *, catalog: Catalog | None = None
) -> st.SearchStrategy[Any]:
    """One valid event object of ``event`` (or of any ordinary event type); shrinks towards required fields only."""
    prov = provider_of(provider, catalog)
    if event is not None:
        return event_strategy(prov, event)
    return st.one_of([event_strategy(prov, name) for name in prov.ordinary_events])


def _key_of(provider: Provider) -> Any:
    pointer = provider.idempotency_key.pointer

    def key(pair: tuple[str, Any]) -> Any:
        value = resolve_pointer(pair[1], pointer)
        return object() if value is MISSING else str(value)  # events without a key never clash

    return key


def deliveries(
    provider: str | Provider,
    event: str | None = None,
    *,
    catalog: Catalog | None = None,
    now: float | None = None,
) -> st.SearchStrategy[Delivery]:
    """An unsigned, valid delivery as the provider sends it: one event, or for SendGrid a batch of 1..5.

    The provider's headers come from a drawn seed; events in a batch have distinct idempotency keys.
    """
    prov = provider_of(provider, catalog)
    typed = typed_payloads(prov, event, now)
    seeds = st.integers(0, 2**32 - 1)
    if prov.body.shape == "batch":
        most = max(1, min(MAX_BATCH, prov.body.batch_max_events or MAX_BATCH))
        per_event = prov.idempotency_key.where == "body" and prov.idempotency_key.per_event
        batch = st.lists(typed, min_size=1, max_size=most, unique_by=_key_of(prov) if per_event else None)
        return st.tuples(batch, seeds).map(
            lambda drawn: build_delivery(
                prov,
                [payload for _, payload in drawn[0]],
                event_types=[name for name, _ in drawn[0]],
                rng=random.Random(drawn[1]),
                now=now,
            )
        )
    return st.tuples(typed, seeds).map(
        lambda drawn: build_delivery(prov, drawn[0][1], event_types=[drawn[0][0]], rng=random.Random(drawn[1]), now=now)
    )
