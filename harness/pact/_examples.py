"""What a provider may send for one event type: the examples ``pact verify`` answers each interaction with."""

from __future__ import annotations

import random
from typing import Any

from harness.catalog import Provider
from harness.pact._rules import required_only

__all__ = ["batch_with", "drawn", "provider_examples"]


def provider_examples(provider: Provider, event: str, count: int, rng: random.Random) -> list[Any]:
    """Up to ``count`` payloads the provider may send for ``event``: samples, their required-only forms, generated."""
    from harness.volume import VolumeGenerator

    found: list[Any] = []
    for sample in provider.event(event).samples:
        if not provider.schema_errors(event, sample):
            found.append(sample)
            minimal = required_only(provider, event, sample)
            if not provider.schema_errors(event, minimal):
                found.append(minimal)
    wanted = max(0, count - len(found))
    found.extend(drawn(provider, event, wanted // 3, rng.randrange(2**32)))  # Hypothesis: edge cases, boundaries
    generator = VolumeGenerator(provider, seed=rng.randrange(2**32))
    while len(found) < count:
        payload = generator.payload(event)
        found.append(payload)
        if len(found) < count and rng.random() < 0.3:
            minimal = required_only(provider, event, payload)
            if not provider.schema_errors(event, minimal):
                found.append(minimal)
    return found[: max(count, 1)]


def drawn(provider: Provider, event: str, count: int, seed: int) -> list[Any]:
    """Up to ``count`` payloads of ``event`` drawn by the catalog's Hypothesis strategy, reproducibly from ``seed``."""
    if count <= 0:
        return []
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed

    from harness.strategies import payloads

    out: list[Any] = []
    quiet = list(HealthCheck)

    @settings(max_examples=count, phases=[Phase.generate], database=None, suppress_health_check=quiet, deadline=None)
    @hypothesis_seed(seed)
    @given(payloads(provider, event))
    def collect(value: Any) -> None:
        if len(out) < count:
            out.append(value)

    collect()
    return [p for p in out if not provider.schema_errors(event, p)]


def batch_with(provider: Provider, event: str, payload: Any, number: int, rng: random.Random) -> list[tuple[str, Any]]:
    """A batch holding ``payload``: alone every third time, else among up to three events of other types."""
    if number % 3 == 0:
        return [(event, payload)]
    from harness.volume import VolumeGenerator

    others = [e for e in provider.ordinary_events if e != event] or [event]
    generator = VolumeGenerator(provider, seed=rng.randrange(2**32))
    pairs = [(name, generator.payload(name)) for name in rng.sample(others, min(len(others), rng.randint(1, 3)))]
    pairs.insert(rng.randint(0, len(pairs)), (event, payload))
    return pairs
