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


def _fresh_like(value: Any, rng: random.Random, prefix: str = "") -> Any:
    """A new id shaped like ``value``: an integer, a digit string, a UUID, or a prefix plus random characters."""
    if isinstance(value, int) and not isinstance(value, bool):
        return rng.randrange(10**11, 10**12)
    text = value if isinstance(value, str) else ""
    if prefix:
        return prefix + "".join(rng.choices(_ALNUM, k=max(8, min(24, len(text) - len(prefix)))))
    if text.isdigit():
        return str(rng.randrange(10 ** (max(len(text), 6) - 1), 10 ** max(len(text), 6)))
    if len(text) == 36 and text.count("-") == 4:
        hexes = "".join(rng.choices("0123456789abcdef", k=32))
        return f"{hexes[:8]}-{hexes[8:12]}-4{hexes[13:16]}-a{hexes[17:20]}-{hexes[20:]}"
    head = text[: text.rfind("_") + 1] if "_" in text else ""
    return head + "".join(rng.choices(_ALNUM, k=max(8, len(text) - len(head))))


def _object_id(provider: Provider, lifecycle: Lifecycle, rng: random.Random) -> Any:
    sample = _sample(provider, lifecycle.steps[0].like)
    current = resolve_pointer(sample, lifecycle.object_pointer)
    if lifecycle.object_kind == "integer":
        return rng.randrange(10**11, 10**12)
    return _fresh_like(current if current is not MISSING else "", rng, lifecycle.object_prefix)


def _sample(provider: Provider, event: str) -> Any:
    sample = provider.event(event).samples[0]
    if provider.body.shape == "batch" and isinstance(sample, list):
        sample = sample[0]
    return sample


def build_instance(provider: Provider, lifecycle: Lifecycle, rng: random.Random, start: float) -> Instance:
    """Fresh object id and event ids; step ``i`` is stamped ``start + i * STEP_GAP`` in the provider's format."""
    object_id = _object_id(provider, lifecycle, rng)
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
            set_pointer(body, key.pointer, _fresh_like(resolve_pointer(body, key.pointer), rng))
        payload = [body] if provider.body.shape == "batch" else body
        events.append(build_delivery(provider, payload, event_types=[step.event], rng=rng, now=when, label=step.label))
    return Instance(lifecycle, str(object_id), tuple(events))
