"""Fast, seeded payload generation without Hypothesis, for load, soak and the retry simulator."""

from __future__ import annotations

import random
import string
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from harness.catalog import Catalog, Provider, load_catalog
from harness.core.models import Delivery
from harness.core.regexgen import regex_generator
from harness.deliveries import build_delivery
from harness.strategies._values import FORMAT_FAKERS, faker_pool, format_time, format_value

__all__ = ["VolumeGenerator"]

Maker = Callable[[random.Random, float], Any]
_TEXT = string.ascii_letters + string.digits + " "


class VolumeGenerator:
    """Valid payloads and deliveries for one provider at tens of thousands per second, reproducible from a seed."""

    def __init__(self, provider: str | Provider, seed: int = 0, *, catalog: Catalog | None = None) -> None:
        self.provider = provider if isinstance(provider, Provider) else (catalog or load_catalog()).get(provider)
        self.rng = random.Random(seed)
        self._makers: dict[str, Maker] = {}
        self._events = self.provider.ordinary_events

    def _maker(self, event: str) -> Maker:
        maker = self._makers.get(event)
        if maker is None:
            schema = self.provider.event(event).schema
            resolver = self.provider.registry.resolver(base_uri=schema.get("$id", ""))
            maker = self._makers[event] = _compile(schema, resolver)
        return maker

    def payload(self, event: str | None = None, *, now: float | None = None) -> Any:
        """One valid event object."""
        name = event or self.rng.choice(self._events)
        return self._maker(name)(self.rng, time.time() if now is None else now)

    def events(self, n: int, event: str | None = None, *, now: float | None = None) -> Iterator[tuple[str, Any]]:
        """``n`` (event type, payload) pairs."""
        clock = time.time() if now is None else now
        for _ in range(n):
            name = event or self.rng.choice(self._events)
            yield name, self._maker(name)(self.rng, clock)

    def deliveries(
        self, n: int, event: str | None = None, *, now: float | None = None, batch_size: int = 1
    ) -> Iterator[Delivery]:
        """``n`` unsigned deliveries (``batch_size`` events each for a batch provider)."""
        clock = time.time() if now is None else now
        per = batch_size if self.provider.body.shape == "batch" else 1
        for _ in range(n):
            pairs = list(self.events(per, event, now=clock))
            payload: Any = [p for _, p in pairs] if self.provider.body.shape == "batch" else pairs[0][1]
            yield build_delivery(self.provider, payload, event_types=[t for t, _ in pairs], rng=self.rng, now=clock)


def _compile(schema: Any, resolver: Any) -> Maker:
    if schema is True or schema == {}:
        return lambda rng, now: None
    if "$ref" in schema:
        resolved = resolver.lookup(schema["$ref"])
        holder: list[Maker] = []

        def ref(rng: random.Random, now: float) -> Any:
            if not holder:
                holder.append(_compile(resolved.contents, resolved.resolver))
            return holder[0](rng, now)

        return ref
    if "const" in schema:
        value = schema["const"]
        return lambda rng, now: value
    if "enum" in schema:
        values = list(schema["enum"])
        return lambda rng, now: rng.choice(values)
    if "anyOf" in schema:
        options = [_compile(sub, resolver) for sub in schema["anyOf"]]
        return lambda rng, now: rng.choice(options)(rng, now)
    kind = schema.get("type")
    if isinstance(kind, list):
        options = [_compile({**schema, "type": k}, resolver) for k in kind]
        return lambda rng, now: rng.choice(options)(rng, now)
    if kind == "object" or (kind is None and "properties" in schema):
        return _object(schema, resolver)
    if kind == "array":
        item = _compile(schema.get("items", {}), resolver)
        low = int(schema.get("minItems", 0))
        high = min(int(schema.get("maxItems", low + 2)), low + 2)
        return lambda rng, now: [item(rng, now) for _ in range(rng.randint(low, high))]
    if kind == "string":
        return _string(schema)
    if kind == "integer":
        if "x-time" in schema:
            hint = schema["x-time"]
            return lambda rng, now: format_time(now - rng.random() * 3600, hint)
        low = int(schema.get("minimum", 0))
        high = int(schema.get("maximum", low + 100_000))
        return lambda rng, now: rng.randint(low, high)
    if kind == "number":
        low_f, high_f = float(schema.get("minimum", 0)), float(schema.get("maximum", 1e6))
        return lambda rng, now: rng.uniform(low_f, high_f)
    if kind == "boolean":
        return lambda rng, now: rng.random() < 0.5
    return lambda rng, now: None


def _object(schema: Mapping[str, Any], resolver: Any) -> Maker:
    props = schema.get("properties", {})
    required = set(schema.get("required", ()))
    fields = [(name, _compile(sub, resolver), name in required) for name, sub in props.items()]

    def make(rng: random.Random, now: float) -> dict[str, Any]:
        out = {}
        for name, maker, needed in fields:
            if needed or rng.random() < 0.5:
                out[name] = maker(rng, now)
        return out

    return make


def _string(schema: Mapping[str, Any]) -> Maker:
    if "x-time" in schema:
        hint = schema["x-time"]
        return lambda rng, now: format_time(now - rng.random() * 3600, hint)
    if "pattern" in schema:
        gen = regex_generator(schema["pattern"])
        return lambda rng, now: gen(rng)
    method = schema.get("x-faker") or FORMAT_FAKERS.get(schema.get("format", ""))
    if method:
        pool = faker_pool(method)
        return lambda rng, now: rng.choice(pool)
    fmt = schema.get("format")
    if fmt in ("uuid", "date-time", "date"):
        return lambda rng, now: format_value(fmt, rng)
    low = int(schema.get("minLength", 1))
    high = int(schema.get("maxLength", max(low, 24)))
    return lambda rng, now: "".join(rng.choices(_TEXT, k=rng.randint(low, high)))
