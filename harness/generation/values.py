"""Realistic leaf values shared by the Hypothesis strategies and the volume generator: Faker pools, formats, times."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from harness.errors import SchemaLoadError

__all__ = [
    "FORMAT_FAKERS",
    "TIME_WINDOW",
    "extra_key_pool",
    "faker_pool",
    "format_time",
    "format_value",
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
    low = int(schema.get("minLength", 0))
    high = int(schema.get("maxLength", 1 << 30))
    pool = tuple(v for v in faker_pool(str(method)) if low <= len(v) <= high)
    return pool or None


@lru_cache(maxsize=1)
def extra_key_pool() -> tuple[str, ...]:
    """Plausible names for extra properties (SendGrid's flattened custom args, for instance)."""
    words = sorted({w.lower() for w in faker_pool("word") if w.isalpha()})
    return tuple([f"{w}_id" for w in words[:16]] + words[:32] + ["userid", "batch", "campaign", "tenant"])


def format_time(seconds: float, kind: str) -> Any:
    """A timestamp in one of the providers' forms: ``unix``, ``unix_ms``, ``rfc3339``, ``oci`` or ``date``."""
    if kind == "unix":
        return int(seconds)
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
