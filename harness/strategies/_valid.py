"""Valid payloads and deliveries, compiled once per (provider, event type, clock)."""

from __future__ import annotations

import random
import time
from typing import TYPE_CHECKING, Any

from hypothesis import strategies as st

from harness.catalog import Catalog, Provider, load_catalog
from harness.core.models import Delivery
from harness.core.pointers import MISSING, resolve_pointer
from harness.deliveries import build_delivery
from harness.generation.values import batch_size, compile_invariants, json_copy
from harness.strategies._compile import SchemaStrategies

if TYPE_CHECKING:
    from harness.volume import VolumeGenerator

__all__ = ["MAX_BATCH", "deliveries", "event_strategy", "event_types", "payloads", "provider_of", "typed_payloads"]

MAX_BATCH = 2  # events per batch drawn by Hypothesis (they shrink; fewer draws keep generation fast); the rest of a
# batch comes from a seeded generator
_CACHE_LIMIT = 1024
_STRATEGIES: dict[tuple[int, str, float | None], tuple[Provider, st.SearchStrategy[Any]]] = {}
# One compiler per (provider, clock): the definitions event types share ($defs: GitHub's repository, user, ...)
# compile once for all of them.
_COMPILERS: dict[tuple[int, float | None], tuple[Provider, SchemaStrategies]] = {}
_FILLERS: dict[int, tuple[Provider, VolumeGenerator]] = {}


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
    found = _COMPILERS.get((id(provider), now))
    if found is None or found[0] is not provider:
        if len(_COMPILERS) >= _CACHE_LIMIT:
            _COMPILERS.clear()
        found = _COMPILERS[(id(provider), now)] = (provider, SchemaStrategies(now))
    strategy = found[1].compile(schema, provider.registry.resolver(base_uri=schema.get("$id", "")))
    fix = compile_invariants(schema)
    if fix is not None:
        strategy = strategy.map(lambda payload: fix(json_copy(payload)))
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
    if event is not None:
        return st.tuples(st.just(event), event_strategy(provider, event, now))
    # compiled on first draw, not up front: GitHub's official catalog has 259 types
    return st.sampled_from(provider.ordinary_events).flatmap(
        lambda name: st.tuples(st.just(name), event_strategy(provider, name, now))
    )


def payloads(
    provider: str | Provider, event: str | None = None, *, catalog: Catalog | None = None
) -> st.SearchStrategy[Any]:
    """One valid event object of ``event`` (or of any ordinary event type); shrinks towards required fields only."""
    prov = provider_of(provider, catalog)
    if event is not None:
        return event_strategy(prov, event)
    return st.sampled_from(prov.ordinary_events).flatmap(lambda name: event_strategy(prov, name))  # compiled lazily


def _key_of(provider: Provider) -> Any:
    pointer = provider.idempotency_key.pointer

    def key(pair: tuple[str, Any]) -> Any:
        value = resolve_pointer(pair[1], pointer)
        return object() if value is MISSING else str(value)  # events without a key never clash

    return key


def _filler(provider: Provider) -> VolumeGenerator:
    """One seeded volume generator per provider, to top batches up cheaply."""
    from harness.volume import VolumeGenerator

    cached = _FILLERS.get(id(provider))
    if cached is None or cached[0] is not provider:
        if len(_FILLERS) >= _CACHE_LIMIT:
            _FILLERS.clear()
        cached = _FILLERS[id(provider)] = (provider, VolumeGenerator(provider))
    return cached[1]


def _batch(
    provider: Provider, drawn: list[tuple[str, Any]], size: int, seed: int, event: str | None, now: float | None
) -> list[tuple[str, Any]]:
    """``size`` events: the drawn ones first, then seeded ones with idempotency keys not yet used."""
    if size <= len(drawn):
        return drawn[:size]
    key = _key_of(provider)
    seen = {key(pair) for pair in drawn}
    filler = _filler(provider)
    filler.rng.seed(seed)
    out = list(drawn)
    clock = time.time() if now is None else now
    for _ in range(4):  # keys are random and long: a clash is rare, and a short batch is still a valid batch
        for pair in filler.events(size - len(out), event, now=clock):
            if key(pair) not in seen:
                seen.add(key(pair))
                out.append(pair)
        if len(out) >= size:
            break
    return out


def deliveries(
    provider: str | Provider,
    event: str | None = None,
    *,
    catalog: Catalog | None = None,
    now: float | None = None,
) -> st.SearchStrategy[Delivery]:
    """An unsigned, valid delivery as the provider sends it: one event, or for SendGrid a batch.

    Batch sizes follow a realistic mix (mostly 1..5 events, often up to 50, sometimes hundreds) and shrink to one
    event. The provider's headers come from a drawn seed; events in a batch have distinct idempotency keys.
    """
    prov = provider_of(provider, catalog)
    typed = typed_payloads(prov, event, now)
    seeds = st.integers(0, 2**32 - 1)
    if prov.body.shape == "batch":
        most = prov.body.batch_max_events
        per_event = prov.idempotency_key.where == "body" and prov.idempotency_key.per_event
        unique = _key_of(prov) if per_event else None
        head = st.lists(typed, min_size=1, max_size=min(MAX_BATCH, most or MAX_BATCH), unique_by=unique)
        # sampled_from draws the mix's buckets evenly (integers() would favour small values) and shrinks to 0: one event
        sizes = st.tuples(st.sampled_from(range(100)), st.sampled_from(range(100))).map(
            lambda draws: batch_size(draws[0] / 100, draws[1] / 100, most)
        )

        def build(drawn: tuple[list[tuple[str, Any]], int, int]) -> Delivery:
            pairs = _batch(prov, drawn[0], drawn[1], drawn[2], event, now)
            return build_delivery(
                prov,
                [payload for _, payload in pairs],
                event_types=[name for name, _ in pairs],
                rng=random.Random(drawn[2]),
                now=now,
            )

        return st.tuples(head, sizes, seeds).map(build)
    return st.tuples(typed, seeds).map(
        lambda drawn: build_delivery(prov, drawn[0][1], event_types=[drawn[0][0]], rng=random.Random(drawn[1]), now=now)
    )
