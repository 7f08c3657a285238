"""Turn event payloads into deliveries: exact body bytes, the provider's headers, the idempotency keys."""

from __future__ import annotations

import random
import string
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from harness.catalog import Provider
from harness.core.models import Delivery
from harness.core.pointers import MISSING, resolve_pointer
from harness.core.registry import Registry

__all__ = [
    "HEADER_GENERATORS",
    "HeaderContext",
    "Rekeyer",
    "build_delivery",
    "event_type_of",
    "idempotency_keys_of",
]


@dataclass(frozen=True, slots=True)
class HeaderContext:
    """What a header generator may use."""

    provider: Provider
    event_types: tuple[str, ...]
    rng: random.Random
    now: float
    spec: Mapping[str, Any]
    confirmation_url: str


HeaderGenerator = Callable[[HeaderContext], str]
HEADER_GENERATORS: Registry[HeaderGenerator] = Registry("header generator")


def _length(ctx: HeaderContext, default: int) -> int:
    return int(ctx.spec.get("length", default))


_V4_CLEAR = ~((0xC000 << 48) | (0xF000 << 64))
_V4_SET = (0x8000 << 48) | (4 << 76)


def _uuid4(ctx: HeaderContext) -> str:
    """``str(uuid.UUID(int=bits, version=4))`` for the next 128 random bits, without building the UUID object."""
    text = "%032x" % ((ctx.rng.getrandbits(128) & _V4_CLEAR) | _V4_SET)
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def _chars(alphabet: str) -> HeaderGenerator:
    def generate(ctx: HeaderContext) -> str:
        return "".join(ctx.rng.choices(alphabet, k=_length(ctx, 16)))

    return generate


def _number(ctx: HeaderContext) -> str:
    """A decimal id of the given length: no leading zero, as ids are numbers."""
    length = _length(ctx, 16)
    return ctx.rng.choice("123456789") + "".join(ctx.rng.choices(string.digits, k=length - 1))


def _ocid(ctx: HeaderContext) -> str:
    return "ocid1.generic.oc1.phx." + "".join(ctx.rng.choices(string.ascii_lowercase + string.digits, k=60))


def _myshopify(ctx: HeaderContext) -> str:
    word = "".join(ctx.rng.choices(string.ascii_lowercase, k=ctx.rng.randint(5, 12)))
    return f"{word}.myshopify.com"


def _oci_time(ctx: HeaderContext) -> str:
    stamp = datetime.fromtimestamp(ctx.now, UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}+0000"


for _name, _gen in {
    "uuid4": _uuid4,
    "event_type": lambda ctx: ctx.event_types[0] if ctx.event_types else "",
    "digits": _number,
    "hex": _chars("0123456789abcdef"),
    "alnum": _chars(string.ascii_letters + string.digits),
    "unix_time": lambda ctx: str(int(ctx.now)),
    "unix_time_ms": lambda ctx: str(int(ctx.now * 1000)),
    "rfc3339_time": lambda ctx: datetime.fromtimestamp(ctx.now, UTC).isoformat(timespec="milliseconds"),
    "oci_time": _oci_time,
    "myshopify_domain": _myshopify,
    "ocid": _ocid,
    "confirmation_url": lambda ctx: ctx.confirmation_url,
}.items():
    HEADER_GENERATORS.register(_name, _gen)


def _header_value(ctx: HeaderContext) -> str:
    if "value" in ctx.spec:
        return str(ctx.spec["value"])
    core = HEADER_GENERATORS.get(ctx.spec["generate"])(ctx)
    return f"{ctx.spec.get('prefix', '')}{core}{ctx.spec.get('suffix', '')}"


def event_type_of(provider: Provider, headers: Mapping[str, str], payload: Any) -> str | None:
    """The event type a receiver would read from a delivery (the first event's, for a batch)."""
    loc = provider.event_type
    if loc.where == "header":
        lowered = loc.name.lower()
        named = next((v for k, v in headers.items() if k.lower() == lowered), None)
        first = payload[0] if provider.body.shape == "batch" and isinstance(payload, list) and payload else payload
        return provider.qualified_event_type(named, first)
    item = payload[0] if provider.body.shape == "batch" and isinstance(payload, list) and payload else payload
    value = resolve_pointer(item, loc.pointer)
    return provider.event_type_name(value)


def idempotency_keys_of(provider: Provider, headers: Mapping[str, str], payload: Any) -> tuple[str, ...]:
    """The idempotency keys a delivery carries, one per event where the provider keys each event."""
    loc = provider.idempotency_key
    if loc.where == "header":
        lowered = loc.name.lower()
        value = next((v for k, v in headers.items() if k.lower() == lowered), None)
        return (value,) if value else ()
    items = payload if provider.body.shape == "batch" and isinstance(payload, list) else [payload]
    keys = []
    for item in items:
        value = resolve_pointer(item, loc.pointer)
        if value is not MISSING and value is not None:
            keys.append(str(value))
    return tuple(keys)


def build_delivery(
    provider: Provider,
    payloads: Sequence[Any] | Any,
    *,
    event_types: Sequence[str] | None = None,
    rng: random.Random | None = None,
    now: float | None = None,
    confirmation_url: str = "",
    headers: Mapping[str, str] | None = None,
    label: str = "valid",
) -> Delivery:
    """Wrap event payloads in a delivery as the provider would send it (unsigned).

    For a batch provider ``payloads`` is a list of events; otherwise it is the one event. ``event_types`` defaults
    to what the payloads name (or, for header-typed providers, must be given).
    """
    rng = rng or random.Random()
    now = time.time() if now is None else now
    body_value = list(payloads) if provider.body.shape == "batch" else payloads
    items = body_value if provider.body.shape == "batch" else [body_value]
    if event_types is None:
        found = []
        for item in items:
            name = resolve_pointer(item, provider.event_type.pointer) if provider.event_type.where == "body" else None
            found.append(provider.event_type_name(name) or "")
        event_types = found
    types = tuple(event_types)
    out: dict[str, str] = {"Content-Type": provider.content_type}
    specs: dict[str, Mapping[str, Any]] = dict(provider.headers)
    for name in dict.fromkeys(types):
        if name in provider.events:
            specs.update(provider.events[name].headers)
    for name, spec in specs.items():
        ctx = HeaderContext(provider, types, rng, now, spec, confirmation_url)
        out[name] = _header_value(ctx)
    if headers:
        out.update(headers)
    return Delivery(
        provider=provider.id,
        method=provider.method,
        headers=out,
        body=provider.encode(body_value),
        event_types=types,
        idempotency_keys=idempotency_keys_of(provider, out, body_value),
        payload=body_value,
        timestamp=int(now),
        label=label,
    )


class Rekeyer:
    """Fresh idempotency keys for one provider that keys deliveries by a header (the simulator's body pool)."""

    def __init__(self, provider: Provider) -> None:
        loc = provider.idempotency_key
        if loc.where != "header":
            raise ValueError(f"{provider.id} keys deliveries in the body, not by a header.")
        self.provider = provider
        self._specs: dict[tuple[str, ...], tuple[str, Mapping[str, Any]]] = {}

    def _spec(self, event_types: tuple[str, ...]) -> tuple[str, Mapping[str, Any]]:
        found = self._specs.get(event_types)
        if found is None:
            provider, lowered = self.provider, self.provider.idempotency_key.name.lower()
            specs: dict[str, Mapping[str, Any]] = dict(provider.headers)
            for name in dict.fromkeys(event_types):
                if name in provider.events:
                    specs.update(provider.events[name].headers)
            default = (provider.idempotency_key.name, {"generate": "uuid4"})
            found = next(((n, s) for n, s in specs.items() if n.lower() == lowered), default)
            self._specs[event_types] = found
        return found

    def __call__(self, delivery: Delivery, rng: random.Random, now: float | None = None) -> Delivery:
        """The same delivery under a fresh key: only the key header is generated anew; the provider's other
        headers (hook ids, user agent) stay as they are between two real deliveries of one subscription."""
        name, spec = self._spec(delivery.event_types)
        when = time.time() if now is None else now
        value = _header_value(HeaderContext(self.provider, delivery.event_types, rng, when, spec, ""))
        return delivery.with_headers({name: value}, idempotency_keys=(value,))
