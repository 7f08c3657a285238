"""Fast, seeded payload generation without Hypothesis, for load, soak and the retry simulator.

Each event schema compiles once into a closure ``(rng, now) -> value`` over ``random.Random``; Faker values come
from pre-built pools, patterns from exact seeded regex generators. The same seed gives the same payloads.
"""

from __future__ import annotations

import random
import re
import string
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from referencing._core import Resolver

from harness.catalog import Catalog, Provider, load_catalog
from harness.core.models import Delivery
from harness.deliveries import Rekeyer, build_delivery
from harness.errors import SchemaLoadError, UsageError
from harness.generation import passthrough
from harness.generation.compiler import SchemaCompiler
from harness.generation.regex import UnsupportedPattern, seeded_regex
from harness.generation.schema import (
    array_bounds,
    integer_bounds,
    length_bounds,
    number_bounds,
)
from harness.generation.values import (
    TIME_WINDOW,
    batch_size,
    compile_invariants,
    extra_key_pool,
    format_time,
    string_pool,
)

__all__ = ["FreshDeliveries", "VolumeGenerator", "check_events"]

Maker = Callable[[random.Random, float], Any]
_TEXT = (string.ascii_letters + string.digits + " ") * 4
# random bytes read through this table: one C call per string, not one draw per character (a 256 KB SNS Message)
_TEXT_BYTES = bytes.maketrans(bytes(range(256)), (_TEXT * 2)[:256].encode("ascii"))
_SCALAR_MAKERS: tuple[Maker, ...] = (
    lambda rng, now: None,
    lambda rng, now: rng.random() < 0.5,
    lambda rng, now: int(rng.random() * 100_000),
    lambda rng, now: "".join(rng.choices(string.ascii_letters, k=8)),
)
_EXTRA_CHANCE = 0.25  # how often an object whose additionalProperties is a schema gets one extra member


def compile_payload(schema: Mapping[str, Any], resolver: Resolver) -> Maker:
    """One schema as a seeded maker ``(rng, now) -> value`` (what the importer drafts samples with)."""
    return _Compiler().compile(schema, resolver)


class VolumeGenerator:
    """Valid payloads and deliveries for one provider at tens of thousands per second, reproducible from a seed."""

    def __init__(
        self,
        provider: str | Provider,
        seed: int = 0,
        *,
        catalog: Catalog | None = None,
        pass_through_rate: float = 0.0,
    ) -> None:
        self.provider = provider if isinstance(provider, Provider) else (catalog or load_catalog()).get(provider)
        self.rng = random.Random(seed)
        self._makers = _shared_makers(self.provider, pass_through_rate)
        self._events = self.provider.ordinary_events
        # The share of events carrying one unusual value a person typed (NUL, emoji, RTL marks, 10 KB, 2^53+1) in a
        # free-text field the profile names; 0 turns it off.
        self.pass_through_rate = pass_through_rate
        self._pass_fields = passthrough.fields_of(self.provider.pass_through)
        self._pass_valid: dict[tuple[str, str, str], bool] = {}

    def _maker(self, event: str) -> Maker:
        maker = self._makers.get(event)
        if maker is None:
            schema = self.provider.event(event).schema
            resolver = self.provider.registry.resolver(base_uri=schema.get("$id", ""))
            maker = _Compiler().compile(schema, resolver)
            fix = compile_invariants(schema)
            if fix is not None:
                maker = _fixed(maker, fix)  # the provider's cross-field facts (x-invariants)
            if self.pass_through_rate > 0 and self._pass_fields:
                maker = self._passing(event, maker)
            self._makers[event] = maker
        return maker

    def payload(self, event: str | None = None, *, now: float | None = None) -> Any:
        """One valid event object (of ``event``, or of a random ordinary event type)."""
        name = event or self._events[int(self.rng.random() * len(self._events))]
        return self._maker(name)(self.rng, time.time() if now is None else now)

    def events(self, n: int, event: str | None = None, *, now: float | None = None) -> Iterator[tuple[str, Any]]:
        """``n`` (event type, payload) pairs; timestamps fall in the hour before ``now``."""
        clock = time.time() if now is None else now
        rng = self.rng
        if event is not None:
            maker = self._maker(event)
            for _ in range(n):
                yield event, maker(rng, clock)
            return
        names = self._events
        makers = [self._maker(name) for name in names]
        count = len(names)
        for _ in range(n):
            index = int(rng.random() * count)
            yield names[index], makers[index](rng, clock)

    def deliveries(
        self, n: int, event: str | None = None, *, now: float | None = None, batch_size: int | None = 1
    ) -> Iterator[Delivery]:
        """``n`` unsigned deliveries: ``batch_size`` events each for a batch provider, or with None a realistic mix
        (mostly 1..5 events, often up to 50, sometimes hundreds)."""
        clock = time.time() if now is None else now
        batch = self.provider.body.shape == "batch"
        most = self.provider.body.batch_max_events
        rng = self.rng
        for _ in range(n):
            if not batch:
                per = 1
            elif batch_size is None:
                per = _mixed_batch_size(rng.random(), rng.random(), most)
            else:
                per = max(1, batch_size)
            pairs = list(self.events(per, event, now=clock))
            payload: Any = [p for _, p in pairs] if batch else pairs[0][1]
            yield build_delivery(self.provider, payload, event_types=[t for t, _ in pairs], rng=self.rng, now=clock)

    def _passing(self, event: str, make: Maker) -> Maker:
        """``make`` with one pass-through value put in at the configured rate, where it keeps the event valid."""
        rate, fields, valid = self.pass_through_rate, self._pass_fields, self._pass_valid

        def made(rng: random.Random, now: float) -> Any:
            value = make(rng, now)
            if rng.random() >= rate:
                return value
            chosen = passthrough.pick(fields, value, rng)
            if chosen is None:
                return value
            field, kind = chosen
            candidate = passthrough.with_value(value, field, kind)
            key = (event, field.pointer, kind)
            ok = valid.get(key)
            if ok is None:
                ok = valid[key] = self.provider.is_valid(event, candidate)
            return candidate if ok else value

        return made


_mixed_batch_size = batch_size  # the parameter of deliveries() shadows the name
_MAKER_CACHE_LIMIT = 64
_MAKERS: dict[tuple[int, float], tuple[Provider, dict[str, Maker]]] = {}


def _shared_makers(provider: Provider, pass_through_rate: float) -> dict[str, Maker]:
    """The compiled makers of one provider profile, shared by every generator of it (a bounded cache).

    A maker is a pure function of the (immutable) profile's schemas: it draws only from the ``rng`` it is handed, so
    two generators (two sessions) sharing makers still draw independent, seeded values; only compiling is saved.
    """
    key = (id(provider), pass_through_rate)
    cached = _MAKERS.get(key)
    if cached is None or cached[0] is not provider:  # an id reused by another profile: compile afresh
        if len(_MAKERS) >= _MAKER_CACHE_LIMIT:
            _MAKERS.clear()
        cached = _MAKERS[key] = (provider, {})
    return cached[1]


def _fixed(make: Maker, fix: Callable[[Any], Any]) -> Maker:
    return lambda rng, now: fix(make(rng, now))


class _Compiler(SchemaCompiler[Maker]):
    """One schema's compilation; ``$ref`` targets compile once (a recursive one through a late-bound cell)."""

    def anything(self) -> Maker:
        """A random scalar."""
        return _any_scalar

    def constant(self, value: Any) -> Maker:
        """``value``, copied at each call."""
        return _constant(value)

    def one_of_values(self, values: list[Any]) -> Maker:
        """One of ``values``, copied at each call."""
        return _pick([_constant(value) for value in values])

    def choice(self, options: list[Maker]) -> Maker:
        """One of ``options``, uniformly."""
        return _pick(options)

    def forward(self, cell: list[Maker]) -> Maker:
        """Calls ``cell[0]``."""
        return lambda rng, now: cell[0](rng, now)

    def typed(self, schema: Mapping[str, Any], kind: str, resolver: Resolver) -> Maker:
        """The maker for one JSON type."""
        if kind == "object":
            return self._object(schema, resolver)
        if kind == "array":
            item = self.compile(schema.get("items", True), resolver)
            low, high = array_bounds(schema, 2)
            span = high - low + 1
            if schema.get("uniqueItems"):
                return _unique_list(item, low, span)
            return lambda rng, now: [item(rng, now) for _ in range(low + int(rng.random() * span))]
        if kind == "string":
            return _string(schema)
        if kind in ("integer", "number") and "x-time" in schema:
            hint = schema["x-time"] if schema["x-time"] in ("unix", "unix_ms") else "unix"
            return lambda rng, now: format_time(now - rng.random() * TIME_WINDOW, hint)
        if kind == "integer":
            low, high = integer_bounds(schema, 100_000)
            step = schema.get("multipleOf")
            if isinstance(step, int) and step > 0:
                first, count = -(-low // step), high // step - (-(-low // step)) + 1
                return lambda rng, now: (first + int(rng.random() * count)) * step
            span = high - low + 1
            return lambda rng, now: low + int(rng.random() * span)
        if kind == "number":
            bottom, top, _, _ = number_bounds(schema, 100_000.0)
            middle = (bottom + top) / 2
            return lambda rng, now: rng.uniform(bottom, top) if rng.random() < 0.99 else middle
        if kind == "boolean":
            return lambda rng, now: rng.random() < 0.5
        if kind == "null":
            return lambda rng, now: None
        raise SchemaLoadError(f"Unknown JSON type {kind!r} in a schema.")

    def _object(self, schema: Mapping[str, Any], resolver: Resolver) -> Maker:
        props: Mapping[str, Any] = schema.get("properties", {})
        required = list(dict.fromkeys(schema.get("required", ())))
        extra = schema.get("additionalProperties", True)
        extra_schema = extra if isinstance(extra, Mapping) and extra else None
        fields: list[tuple[str, Maker, bool]] = []
        for name in required:
            sub = props.get(name, extra_schema if extra_schema is not None else True)
            fields.append((name, self.compile(sub, resolver), True))
        fields += [
            (n, self.compile(s, resolver), False) for n, s in props.items() if n not in required and s is not False
        ]
        extra_maker = self.compile(extra_schema, resolver) if extra_schema is not None else None
        names = [n for n in extra_key_pool() if n not in props]

        mandatory = [(name, maker) for name, maker, needed in fields if needed]
        optional = [(name, maker) for name, maker, needed in fields if not needed]

        def make(rng: random.Random, now: float) -> dict[str, Any]:
            out = {name: maker(rng, now) for name, maker in mandatory}
            chance = rng.random
            for name, maker in optional:
                if chance() < 0.5:
                    out[name] = maker(rng, now)
            return out

        if extra_maker is None:
            return make

        def make_extra(rng: random.Random, now: float) -> dict[str, Any]:
            out = make(rng, now)
            chance = rng.random
            if chance() < _EXTRA_CHANCE:
                out[names[int(chance() * len(names))]] = extra_maker(rng, now)
            return out

        return make_extra


def _pick(options: list[Maker]) -> Maker:
    if len(options) == 1:
        return options[0]
    count = len(options)
    return lambda rng, now: options[int(rng.random() * count)](rng, now)


def _constant(value: Any) -> Maker:
    if isinstance(value, dict | list):
        return lambda rng, now: _copy_json(value)
    return lambda rng, now: value


def _any_scalar(rng: random.Random, now: float) -> Any:
    return _SCALAR_MAKERS[int(rng.random() * len(_SCALAR_MAKERS))](rng, now)


def _copy_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy_json(v) for v in value]
    return value


def _unique_list(item: Maker, low: int, span: int) -> Maker:
    def make(rng: random.Random, now: float) -> list[Any]:
        target = low + int(rng.random() * span)
        seen: dict[str, Any] = {}
        for _ in range(target * 10 + 10):
            if len(seen) >= target:
                break
            value = item(rng, now)
            seen.setdefault(repr(value), value)
        if len(seen) < low:
            raise SchemaLoadError("uniqueItems with a minItems the item schema cannot fill")
        return list(seen.values())

    return make


def _string(schema: Mapping[str, Any]) -> Maker:
    low, high = length_bounds(schema, 24)
    if "x-time" in schema:
        hint = schema["x-time"]
        return lambda rng, now: str(format_time(now - rng.random() * TIME_WINDOW, hint))
    if "pattern" in schema:
        return _pattern(schema["pattern"], low, high, "minLength" in schema or "maxLength" in schema)
    pool = string_pool(schema)
    if pool is not None:
        size = len(pool)
        return lambda rng, now: pool[int(rng.random() * size)]
    fmt = schema.get("format")
    if fmt == "uuid":
        return lambda rng, now: str(uuid.UUID(int=rng.getrandbits(128), version=4))
    if fmt in ("date-time", "date"):
        kind = "rfc3339" if fmt == "date-time" else "date"
        return lambda rng, now: str(format_time(now - rng.random() * TIME_WINDOW, kind))
    if fmt == "time":
        return lambda rng, now: f"{int(rng.random() * 24):02d}:{int(rng.random() * 60):02d}:00Z"
    if fmt == "decimal":  # Stripe's decimal strings (amount_decimal): stripe-python reads them with Decimal()
        return lambda rng, now: f"{int(rng.random() * 100000)}.{int(rng.random() * 100):02d}"
    low = max(low, 1) if high >= 1 else low
    span = high - low + 1
    return lambda rng, now: _text(rng, low + int(rng.random() * span))


def _text(rng: random.Random, size: int) -> str:
    """``size`` seeded letters, digits and spaces."""
    return rng.randbytes(size).translate(_TEXT_BYTES).decode("ascii")


def _pattern(pattern: str, low: int, high: int, bounded: bool) -> Maker:
    try:
        gen = seeded_regex(pattern)
    except UnsupportedPattern as exc:
        raise exc.error(pattern, "volume generator") from None
    except re.error as exc:
        raise SchemaLoadError(f"Cannot generate from the pattern {pattern!r}: {exc}.") from None
    if not bounded:
        return lambda rng, now: gen(rng)

    def make(rng: random.Random, now: float) -> str:
        for _ in range(100):
            value = gen(rng)
            if low <= len(value) <= high:
                return value
        raise SchemaLoadError(f"pattern {pattern!r} rarely fits length {low}..{high}")

    return make


_TRIES = 20  # attempts at a delivery whose keys no earlier delivery carries


class FreshDeliveries:
    """Unsigned deliveries whose idempotency keys no earlier one carried; a batch is cut to the provider's size cap.

    The one pool of fresh deliveries: ``load`` (``DeliverySource``), Locust (``harness.locust.DeliveryPool``) and the
    retry simulator (``DeliveryFactory``) all draw from it. With ``reuse`` N, a provider that keys deliveries by a
    header (and does not batch) gets N generated bodies per event type, then the same bodies under fresh keys: what a
    long run needs is distinct keys, and re-keying costs a header instead of a body.
    """

    def __init__(
        self,
        provider: Provider,
        events: Sequence[str] = (),
        *,
        seed: int = 0,
        pass_through_rate: float = 0.0,
        reuse: int = 0,
    ) -> None:
        self.provider = provider
        self.events = tuple(events) or provider.ordinary_events
        self.generator = VolumeGenerator(provider, seed=seed, pass_through_rate=pass_through_rate)
        self.rng = random.Random(seed ^ 0x10AD)
        self.seen: set[str] = set()
        self.batch = provider.body.shape == "batch"
        self.cap = min(provider.body.max_bytes, provider.body.batch_max_bytes or provider.body.max_bytes)
        keyed_by_header = provider.idempotency_key.where == "header" and not self.batch
        self.reuse = reuse if keyed_by_header else 0
        self.rekey = Rekeyer(provider) if self.reuse else None
        self.bodies: dict[str | None, list[Delivery]] = {}

    def fresh(self, size: int = 1, now: float | None = None, types: Sequence[str | None] | None = None) -> Delivery:
        """A delivery of ``size`` events (one unless the provider batches), of ``types`` where given (None: any), with
        keys never handed out before."""
        if self.rekey is not None:
            return self._reused(types[0] if types else None, now)
        return self._built(size, now, types)

    def _built(self, size: int, now: float | None, chosen: Sequence[str | None] | None) -> Delivery:
        names, pick, payload = self.events, self.rng.choice, self.generator.payload
        for _ in range(_TRIES):
            types = [pick(names) for _ in range(size)] if chosen is None else [t or pick(names) for t in chosen]
            payloads = [payload(name, now=now) for name in types]
            body = payloads if self.batch else payloads[0]
            delivery = build_delivery(self.provider, body, event_types=types, rng=self.generator.rng, now=now)
            while self.batch and len(delivery.body) > self.cap and len(payloads) > 1:
                # the provider never posts a batch over its size cap: leave the last events out (counted as trimmed)
                excess = len(delivery.body) - self.cap
                drop = max(1, min(len(payloads) - 1, excess * len(payloads) // len(delivery.body) + 1))
                del payloads[-drop:], types[-drop:]
                delivery = build_delivery(self.provider, payloads, event_types=types, rng=self.generator.rng, now=now)
            if self._claim(delivery):
                return delivery
        raise UsageError(f"The {self.provider.id} schemas give too few distinct idempotency keys for this run.")

    def _reused(self, name: str | None, now: float | None) -> Delivery:
        """One of ``reuse`` bodies of event ``name`` under a key of its own."""
        pool = self.bodies.setdefault(name, [])
        if len(pool) < self.reuse:
            delivery = self._built(1, now, [name])
            pool.append(delivery)
            return delivery
        assert self.rekey is not None
        for _ in range(_TRIES):
            delivery = self.rekey(pool[int(self.rng.random() * len(pool))], self.generator.rng, now)
            if self._claim(delivery):
                return delivery
        raise UsageError(f"The {self.provider.id} key header gives too few distinct keys for this run.")

    def _claim(self, delivery: Delivery) -> bool:
        """Hand out ``delivery`` if no earlier one carried any of its keys."""
        keys = delivery.idempotency_keys
        if self.seen.intersection(keys) or len(set(keys)) != len(keys):
            return False
        self.seen.update(keys)
        return True


def check_events(provider: Provider, events: Sequence[str]) -> tuple[str, ...]:
    """The ``--event`` names, each an ordinary event type of the provider or a glob naming some (``invoice.*``)."""
    known = provider.ordinary_events
    chosen: list[str] = []
    for name in events:
        if any(c in name for c in "*?["):
            found = provider.events_matching([name])
            if not found:
                raise UsageError(f"{provider.id} has no event type matching {name!r} ({len(known)} types).")
            chosen.extend(found)
        elif name not in known:
            shown = ", ".join(known[:20]) + (f", ... ({len(known)} types)" if len(known) > 20 else "")
            raise UsageError(f"{provider.id} has no event type {name!r}. Known: {shown}.")
        else:
            chosen.append(name)
    return tuple(dict.fromkeys(chosen))
