"""Realistic leaf values shared by the Hypothesis strategies and the volume generator: Faker pools, formats, times."""

from __future__ import annotations

import random
import time
import uuid
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

__all__ = ["FORMAT_FAKERS", "faker_pool", "format_time", "time_value"]

POOL_SIZE = 512
FORMAT_FAKERS = {
    "email": "email",
    "uri": "url",
    "ipv4": "ipv4",
    "ipv6": "ipv6",
    "hostname": "domain_name",
}


@lru_cache(maxsize=64)
def faker_pool(method: str, size: int = POOL_SIZE) -> tuple[str, ...]:
    """``size`` values from one Faker method, seeded, so draws are reproducible and cheap."""
    from faker import Faker

    fake = Faker("en_US")
    fake.seed_instance(20261124)
    make = getattr(fake, method, None)
    if make is None:
        raise ValueError(f"unknown Faker method {method!r} in an x-faker hint")
    return tuple(str(make()) for _ in range(size))


def format_time(seconds: float, kind: str) -> Any:
    """A timestamp in one of the providers' forms."""
    if kind == "unix":
        return int(seconds)
    if kind == "unix_ms":
        return int(seconds * 1000)
    stamp = datetime.fromtimestamp(seconds, UTC)
    if kind == "date":
        return stamp.date().isoformat()
    return stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def time_value(kind: str, offset: float, now: float | None = None) -> Any:
    """A timestamp ``offset`` seconds before now."""
    return format_time((time.time() if now is None else now) - offset, kind)


def format_value(fmt: str, rng: random.Random) -> str | None:
    """A value for a string ``format``, or None for formats without a generator."""
    if fmt in FORMAT_FAKERS:
        return rng.choice(faker_pool(FORMAT_FAKERS[fmt]))
    if fmt == "uuid":
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))
    if fmt == "date-time":
        return str(time_value("rfc3339", rng.uniform(0, 3600)))
    if fmt == "date":
        return str(time_value("date", rng.uniform(0, 86400 * 30)))
    return None
