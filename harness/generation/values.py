"""Realistic leaf values shared by the Hypothesis strategies and the volume generator: Faker pools, formats, times."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from harness.core.pointers import MISSING, parse_pointer, resolve_pointer
from harness.errors import SchemaLoadError

__all__ = [
    "FORMAT_FAKERS",
    "TIME_WINDOW",
    "batch_size",
    "compile_invariants",
    "extra_key_pool",
    "faker_pool",
    "format_time",
    "format_value",
    "json_copy",
    "string_pool",
    "time_value",
]

POOL_SIZE = 512
TIME_WINDOW = 3600.0  # generated timestamps fall within the hour before "now"
FORMAT_FAKERS = {
    "email": "email",
    "idn-email": "email",
    "uri": "url",
    "uri-reference": "url",
    "iri": "url",
    "ipv4": "ipv4",
    "ipv6": "ipv6",
    "hostname": "domain_name",
    "idn-hostname": "domain_name",
}


@lru_cache(maxsize=128)
def faker_pool(method: str, size: int = POOL_SIZE) -> tuple[str, ...]:
    """``size`` values from one Faker method, seeded, so draws are reproducible and cheap."""
    from faker import Faker

    fake = Faker("en_US")
    fake.seed_instance(20261124)
    make = getattr(fake, method, None)
    if make is None or not callable(make) or method.startswith("_"):
        raise SchemaLoadError(f"Unknown Faker method {method!r} in an x-faker hint.")
    return tuple(str(make()) for _ in range(size))


def string_pool(schema: Mapping[str, Any]) -> tuple[str, ...] | None:
    """The Faker pool for a string node (its ``x-faker`` hint or its format), trimmed to its length bounds."""
    method = schema.get("x-faker") or FORMAT_FAKERS.get(schema.get("format", ""))
    if not method:
        return None
    return _trimmed_pool(str(method), int(schema.get("minLength", 0)), int(schema.get("maxLength", 1 << 30)))


@lru_cache(maxsize=512)
def _trimmed_pool(method: str, low: int, high: int) -> tuple[str, ...] | None:
    """One Faker pool's values from ``low`` to ``high`` characters long (one tuple per bounds, shared)."""
    return tuple(v for v in faker_pool(method) if low <= len(v) <= high) or None


@lru_cache(maxsize=1)
def extra_key_pool() -> tuple[str, ...]:
    """Plausible names for extra properties (SendGrid's flattened custom args, for instance)."""
    words = sorted({w.lower() for w in faker_pool("word") if w.isalpha()})
    return tuple([f"{w}_id" for w in words[:16]] + words[:32] + ["userid", "batch", "campaign", "tenant"])


def format_time(seconds: float, kind: str) -> Any:
    """A timestamp in a provider's form: ``unix``, ``unix_ms``, ``rfc3339``, ``oci``, ``slack`` or ``date``."""
    if kind == "unix":
        return int(seconds)
    if kind == "slack":
        return f"{seconds:.6f}"  # Slack's ts: Unix seconds, a dot and six digits
    if kind == "unix_ms":
        return int(seconds * 1000)
    stamp = datetime.fromtimestamp(seconds, UTC)
    if kind == "date":
        return stamp.date().isoformat()
    if kind == "oci":
        return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}+0000"
    return stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def time_value(kind: str, offset: float, now: float | None = None) -> Any:
    """A timestamp ``offset`` seconds before ``now`` (the current time when None)."""
    return format_time((time.time() if now is None else now) - offset, kind)


def format_value(fmt: str, rng: random.Random, now: float | None = None) -> str | None:
    """A value for a string ``format``, or None for formats without a generator."""
    if fmt in FORMAT_FAKERS:
        return rng.choice(faker_pool(FORMAT_FAKERS[fmt]))
    if fmt == "uuid":
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))
    if fmt == "date-time":
        return str(time_value("rfc3339", rng.uniform(0, TIME_WINDOW), now))
    if fmt == "date":
        return str(time_value("date", rng.uniform(0, 86400 * 30), now))
    if fmt == "time":
        return f"{rng.randrange(24):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}Z"
    return None


# A realistic mix of batch sizes (SendGrid posts what arrived in 30 s, up to 768 KB): mostly a handful of events,
# often tens, sometimes hundreds. Each entry: (weight, smallest, largest).
BATCH_MIX = ((60, 1, 5), (30, 6, 50), (10, 51, 300))


def batch_size(pick: float, spread: float, most: int | None = None) -> int:
    """A batch size from the realistic mix, given two uniform draws in [0, 1), capped at ``most`` events."""
    total = sum(weight for weight, _, _ in BATCH_MIX)
    mark = pick * total
    low, high = BATCH_MIX[-1][1:]
    for weight, first, last in BATCH_MIX:
        if mark < weight:
            low, high = first, last
            break
        mark -= weight
    size = low + int(spread * (high - low + 1))
    return max(1, min(size, most)) if most else size


Invariant = Callable[[Any], None]


def _parent(doc: Any, pointer: str) -> tuple[Any, str] | None:
    """The container holding ``pointer``'s last member and that member's key, when the container exists."""
    head, _, last = pointer.rpartition("/")
    parent = resolve_pointer(doc, head) if head else doc
    if not isinstance(parent, dict):
        return None
    return parent, parse_pointer("/" + last)[0]


def _setter(pointer: str, value: Any) -> Invariant:
    def assign(doc: Any) -> None:
        found = _parent(doc, pointer)
        if found is not None:
            found[0][found[1]] = json_copy(value)

    return assign


def _when(rule: Mapping[str, Any]) -> Invariant:
    conditions = list(rule["if"].items())
    actions = [_setter(pointer, value) for pointer, value in rule["then"].items()]

    def apply(doc: Any) -> None:
        if all(resolve_pointer(doc, pointer) == value for pointer, value in conditions):
            for action in actions:
                action(doc)

    return apply


def _copy(rule: Mapping[str, Any]) -> Invariant:
    source, target, chars, kind = rule["copy"], rule["to"], rule.get("chars"), rule.get("as")

    def apply(doc: Any) -> None:
        value = resolve_pointer(doc, source)
        found = _parent(doc, target)
        if value is MISSING or found is None or found[1] not in found[0]:
            return  # an optional member stays absent
        if kind == "unix":
            value = int(float(value))
        if chars is not None:
            value = str(value)[:chars] + str(found[0][found[1]])[chars:]
        found[0][found[1]] = value

    return apply


def compile_invariants(schema: Mapping[str, Any]) -> Callable[[Any], Any] | None:
    """The schema's ``x-invariants`` (cross-field facts of the provider) as one in-place fix-up, or None.

    Two kinds of rule, applied in order: ``{"if": {ptr: value}, "then": {ptr: value}}`` sets members when every
    condition holds; ``{"copy": ptr, "to": ptr, "as": "unix", "chars": n}`` copies a value (whole, as Unix seconds,
    or its first ``n`` characters) onto a member that is present.
    """
    rules: Sequence[Any] = schema.get("x-invariants", ())
    fixes: list[Invariant] = []
    for rule in rules:
        if isinstance(rule, Mapping) and isinstance(rule.get("if"), Mapping) and isinstance(rule.get("then"), Mapping):
            fixes.append(_when(rule))
        elif isinstance(rule, Mapping) and isinstance(rule.get("copy"), str) and isinstance(rule.get("to"), str):
            if rule.get("as") not in (None, "unix") or not isinstance(rule.get("chars", 0), int):
                raise SchemaLoadError(f"x-invariants: bad copy rule {rule!r} ('as' may be 'unix'; 'chars' a count).")
            fixes.append(_copy(rule))
        else:
            raise SchemaLoadError(f"x-invariants: unknown rule {rule!r} (use if/then or copy/to).")
    if not fixes:
        return None

    def apply(doc: Any) -> Any:
        for fix in fixes:
            fix(doc)
        return doc

    return apply


def json_copy(value: Any) -> Any:
    """A deep copy of a JSON value."""
    if isinstance(value, dict):
        return {k: json_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_copy(v) for v in value]
    return value
