"""A lifecycle made concrete: one fresh object, one unsigned delivery per step, with shared id and rising versions."""

from __future__ import annotations

import copy
import random
import string
from dataclasses import dataclass
from typing import Any

from harness.catalog import Lifecycle, Provider, format_time
from harness.core.models import Delivery
from harness.core.pointers import MISSING, resolve_pointer, set_pointer
from harness.deliveries import build_delivery
from harness.volume import VolumeGenerator

__all__ = ["STEP_GAP", "Instance", "build_instance"]

STEP_GAP = 60.0  # seconds between two steps' version stamps: distinct even where the provider writes whole seconds
_ALNUM = string.ascii_letters + string.digits


@dataclass(frozen=True)
class Instance:
    """One object's lifecycle, ready to send: ``events[i]`` is step ``i``, unsigned (signed at each send)."""

    lifecycle: Lifecycle
    object_id: str
    events: tuple[Delivery, ...]

    def label(self, step: int) -> str:
        """The step's name in a timeline."""
        return self.lifecycle.steps[step].label


def _fresh(generated: Any, pointer: str, fallback: Any, rng: random.Random) -> Any:
    """A new id: what a freshly generated valid body has at ``pointer`` (so it fits the schema's pattern), else
    random characters after the fallback's ``prefix_``."""
    value = resolve_pointer(generated, pointer)
    if value is not MISSING and value is not None and value != fallback:
        return value
    if isinstance(fallback, int) and not isinstance(fallback, bool):
        return rng.randrange(10**11, 10**12)
    text = fallback if isinstance(fallback, str) else ""
    head = text[: text.rfind("_") + 1]
    return head + "".join(rng.choices(_ALNUM, k=max(8, len(text) - len(head))))


def _sample(provider: Provider, event: str) -> Any:
    sample = provider.event(event).samples[0]
    if provider.body.shape == "batch" and isinstance(sample, list):
        sample = sample[0]
    return sample


def build_instance(
    provider: Provider, lifecycle: Lifecycle, rng: random.Random, start: float, generator: VolumeGenerator | None = None
) -> Instance:
    """Fresh object id and event ids; step ``i`` is stamped ``start + i * STEP_GAP`` in the provider's format."""
    generator = generator or VolumeGenerator(provider, seed=rng.randrange(2**32))
    first = lifecycle.steps[0].like
    known = resolve_pointer(_sample(provider, first), lifecycle.object_pointer)
    object_id = _fresh(generator.payload(first), lifecycle.object_pointer, known, rng)
    if lifecycle.object_kind == "integer" and not isinstance(object_id, int):
        object_id = rng.randrange(10**11, 10**12)
    events = []
    for index, step in enumerate(lifecycle.steps):
        body = copy.deepcopy(_sample(provider, step.like))
        for pointer, value in step.set.items():
            set_pointer(body, pointer, copy.deepcopy(value))
        if provider.event_type.where == "body":
            set_pointer(body, provider.event_type.pointer, step.event)
        for pointer in (lifecycle.object_pointer, *lifecycle.object_also):
            set_pointer(body, pointer, object_id)
        when = start + index * STEP_GAP
        set_pointer(body, lifecycle.version_pointer, format_time(when, lifecycle.version_format))
        key = provider.idempotency_key
        if key.where == "body":
            fresh = _fresh(generator.payload(step.like), key.pointer, resolve_pointer(body, key.pointer), rng)
            set_pointer(body, key.pointer, fresh)
        payload = [body] if provider.body.shape == "batch" else body
        events.append(build_delivery(provider, payload, event_types=[step.event], rng=rng, now=when, label=step.label))
    return Instance(lifecycle, str(object_id), tuple(events))
